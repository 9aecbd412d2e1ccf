// Builds the Apollo Server for the HTTP layer over the shared pipeline (pipeline.ts: schema,
// query-shape limits, parser token cap, API-key and cost checks, the error boundary), plus
// what only HTTP needs: persisted queries, no batching, caching and landing page off.
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { App } from "../app.ts";
import type { GraphQLContext } from "./context.ts";
import { createPipeline, type GraphQLPipeline } from "./pipeline.ts";

export interface ApolloOptions {
  plugins?: ApolloServerPlugin<GraphQLContext>[];
  /** The pipeline to serve (the HTTP server's lean path shares it); built from app when absent. */
  pipeline?: GraphQLPipeline;
}

export function createApolloServer(app: App, opts: ApolloOptions = {}): ApolloServer<GraphQLContext> {
  const p = opts.pipeline ?? createPipeline(app);
  return new ApolloServer<GraphQLContext>({
    schema: p.schema,
    formatError: p.formatError,
    includeStacktraceInErrorResponses: p.includeStacktrace,
    introspection: true,
    // The CLI's serving code shuts down on signals (drain, close the database, release the lock).
    stopOnTerminationSignals: false,
    validationRules: p.validationRules,
    parseOptions: p.parseOptions,
    plugins: [
      ...p.plugins,
      ...(opts.plugins ?? []),
      // HTTP caching headers (ETag, Cache-Control) for GET queries are set by the HTTP layer, so
      // Apollo's cache-control plugin (installed by default) would only wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      // The server root serves the bundled offline IDE, not Apollo's CDN-hosted landing page.
      ApolloServerPluginLandingPageDisabled(),
    ],
    // One operation per HTTP request: batched arrays multiply the work a single request can ask for.
    allowBatchedHttpRequests: false,
    // Automatic persisted queries (hash → query) with Apollo's default bounded in-memory cache.
    persistedQueries: {},
    // Credentials travel only in the Authorization header (never cookies), which browsers do not
    // attach cross-site without a CORS preflight, so CSRF cannot reach a mutation; turning the
    // header check off lets plain GET queries (curl, links, HTTP caches) work.
    csrfPrevention: false,
  });
}
