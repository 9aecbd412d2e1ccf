// Builds the Apollo Server over schema.graphql and the merged resolvers, with the
// query-shape limits (graphql-armor: depth, aliases, directives; parser token cap; cost.ts),
// the API-key check, metrics, and the error boundary.
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { App } from "../app.ts";
import { authPlugin } from "./auth.ts";
import { costLimitPlugin } from "./cost.ts";
import type { GraphQLContext } from "./context.ts";
import { createFormatError } from "./errors.ts";
import { resolvers } from "./resolvers.ts";
import { loadTypeDefs } from "./schema.ts";
import { inputSizePlugin } from "./input-size.ts";
import { textInputPlugin } from "./text-input.ts";

export interface ApolloOptions {
  plugins?: ApolloServerPlugin<GraphQLContext>[];
}

export function createApolloServer(app: App, opts: ApolloOptions = {}): ApolloServer<GraphQLContext> {
  const s = app.config.server;
  const armor = new ApolloArmor({
    maxDepth: { n: s.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: s.maxAliases },
    // Cost is computed by cost.ts once variables are known (armor's rule sees only literal page sizes).
    costLimit: { enabled: false },
    // Token limit via graphql-js's own parser option below: armor's version turns parse errors into HTTP 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: 50 },
    // Field suggestions ("did you mean ...") help people exploring the schema; the schema is public anyway.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return new ApolloServer<GraphQLContext>({
    typeDefs: loadTypeDefs(),
    resolvers: resolvers as never,
    formatError: createFormatError({ development: app.config.isDevelopment, log: app.log }),
    includeStacktraceInErrorResponses: app.config.isDevelopment,
    introspection: true,
    // The CLI's serving code shuts down on signals (drain, close the database, release the lock).
    stopOnTerminationSignals: false,
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: 10_000 },
    plugins: [
      // graphql-armor's typings come from Apollo's CommonJS build; the plugins are the same objects.
      ...(armor.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]),
      authPlugin(s),
      inputSizePlugin(),
      textInputPlugin(),
      costLimitPlugin(s.maxCost),
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
