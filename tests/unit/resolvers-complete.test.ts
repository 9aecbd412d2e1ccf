// Every root field of schema.graphql has a real resolver (nothing answers with a placeholder).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { resolvers } from "../../src/graphql/resolvers.ts";

const schema = buildSchema(readFileSync(join(import.meta.dirname, "..", "..", "schema.graphql"), "utf8"));

describe("resolver map", () => {
  for (const root of ["Query", "Mutation"] as const) {
    it(`resolves every ${root} field`, () => {
      const type = schema.getType(root) as import("graphql").GraphQLObjectType;
      const implemented = Object.keys((resolvers as Record<string, Record<string, unknown>>)[root] ?? {});
      const missing = Object.keys(type.getFields()).filter((f) => !implemented.includes(f));
      expect(missing).toEqual([]);
    });
  }
});
