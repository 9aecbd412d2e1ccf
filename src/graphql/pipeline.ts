// What every GraphQL operation goes through, on the HTTP server (Apollo, apollo.ts) and in
// process (`monoscope query`, run-operation.ts) alike: one executable schema, the parser's
// token cap, the query-shape rules (graphql-armor: depth, aliases, directives), the plugins
// that check the operation before it runs (API key, cost), and the error boundary. Nothing
// here loads Apollo Server: the plugins only use its types.
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { buildSchema, type GraphQLFormattedError, type GraphQLSchema, isObjectType, type ParseOptions, type ValidationRule } from "graphql";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { authPlugin } from "./auth.ts";
import type { GraphQLContext } from "./context.ts";
import { costLimitPlugin, type StoredSizeSource } from "./cost.ts";
import { createFormatError } from "./errors.ts";
import { inputSizePlugin } from "./input-size.ts";
import { textInputPlugin } from "./text-input.ts";
import { resolvers } from "./resolvers.ts";
import { loadTypeDefs } from "./schema.ts";

export interface GraphQLPipeline {
  schema: GraphQLSchema;
  parseOptions: ParseOptions;
  /** Run after graphql-js's specified rules. */
  validationRules: ValidationRule[];
  /** Checks once the operation is known, before it executes. */
  plugins: ApolloServerPlugin<GraphQLContext>[];
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  includeStacktrace: boolean;
}

/**
 * schema.graphql with the merged resolvers attached. Every resolver is a plain field function
 * on an object type; one that names a type or field the schema lacks is a bug, reported here.
 */
export function buildExecutableSchema(typeDefs: string = loadTypeDefs(), map: object = resolvers): GraphQLSchema {
  const schema = buildSchema(typeDefs);
  for (const [typeName, fields] of Object.entries(map as Record<string, Record<string, unknown>>)) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) throw new Error(`resolvers name ${typeName}, which is not an object type in schema.graphql`);
    const defs = type.getFields();
    for (const [name, fn] of Object.entries(fields)) {
      const def = defs[name];
      if (!def) throw new Error(`resolvers name ${typeName}.${name}, which schema.graphql does not define`);
      if (typeof fn !== "function") throw new Error(`resolver ${typeName}.${name} is not a function`);
      def.resolve = fn as never;
    }
  }
  return schema;
}

export function createPipeline(app: { config: Config; log: Logger; services: { sizes: StoredSizeSource } }): GraphQLPipeline {
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
  return {
    schema: buildExecutableSchema(),
    parseOptions: { maxTokens: 10_000 },
    validationRules: armor.validationRules as ValidationRule[],
    plugins: [
      // graphql-armor's typings come from Apollo's CommonJS build; the plugins are the same objects.
      ...(armor.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]),
      authPlugin(s),
      inputSizePlugin(),
      textInputPlugin(),
      costLimitPlugin(s.maxCost, app.services.sizes),
    ],
    formatError: createFormatError({ development: app.config.isDevelopment, log: app.log }),
    includeStacktrace: app.config.isDevelopment,
  };
}
