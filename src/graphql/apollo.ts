// Builds the Apollo Server over schema.graphql and the merged resolvers.
import { ApolloServer } from "@apollo/server";
import type { App } from "../app.ts";
import type { GraphQLContext } from "./context.ts";
import { createFormatError } from "./errors.ts";
import { resolvers } from "./resolvers.ts";
import { loadTypeDefs } from "./schema.ts";

export function createApolloServer(app: App): ApolloServer<GraphQLContext> {
  return new ApolloServer<GraphQLContext>({
    typeDefs: loadTypeDefs(),
    resolvers: resolvers as never,
    formatError: createFormatError({ development: app.config.isDevelopment, log: app.log }),
    includeStacktraceInErrorResponses: app.config.isDevelopment,
    introspection: true,
  });
}
