// Resolver types are generated from schema.graphql (schema-first): `npm run codegen`.
// Mappers tie GraphQL object types to the rows our services return.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    // The explorer's typed client (src/web/): graphql() documents in the app, typed from the schema.
    // documentMode "string" keeps graphql-js out of the browser bundle.
    "src/web/gql/": {
      documents: ["src/web/**/*.tsx", "src/web/**/*.ts", "!src/web/gql/**"],
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: { documentMode: "string", enumsAsTypes: true, useTypeImports: true },
    },
    "src/graphql/generated/resolvers-types.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        useIndexSignature: true,
        contextType: "../context.ts#GraphQLContext",
        mapperTypeSuffix: "Model",
        mappers: {
          Model: "../mappers.ts#ModelParent",
          SaeFamily: "../mappers.ts#FamilyParent",
          Sae: "../mappers.ts#SaeParent",
          SaeStats: "../mappers.ts#SaeStatsParent",
          Feature: "../mappers.ts#FeatureParent",
          FeatureConnection: "../mappers.ts#FeatureConnectionParent",
          Explanation: "../mappers.ts#ExplanationParent",
          LineageNode: "../mappers.ts#LineageNodeParent",
          Job: "../mappers.ts#JobParent",
          JobItem: "../mappers.ts#JobItemParent",
          FamilyScalingRow: "../mappers.ts#FamilyScalingRowParent",
          FeatureList: "../mappers.ts#FeatureListParent",
          FeatureListItem: "../mappers.ts#FeatureListItemParent",
          AttributionGraph: "../mappers.ts#AttributionGraphParent",
          GraphNode: "../mappers.ts#GraphNodeParent",
          GraphLink: "../mappers.ts#GraphLinkParent",
          GraphPath: "../mappers.ts#GraphPathParent",
          GraphMediator: "../mappers.ts#GraphMediatorParent",
          GraphAppearance: "../mappers.ts#GraphAppearanceParent",
          GraphComparison: "../mappers.ts#GraphComparisonParent",
          GraphFeatureComparison: "../mappers.ts#GraphFeatureComparisonParent",
        },
        enumsAsTypes: true,
        scalars: { ID: "string" },
        importExtension: ".ts",
      },
    },
  },
};
export default config;
