// Every list-valued field of schema.graphql is either paged (first / k, or its own page
// argument) or charged by the cost limit at its stored size (LIST_SIZES in cost.ts). A field
// added later without either fails here, naming it; so does a table entry for a field
// that is gone. The stored-size charge itself is checked on a small schema.
import { buildSchema, isObjectType, type OperationDefinitionNode, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { FIELD_MULTIPLIER_ARGS, isListType, LIST_SIZES, MULTIPLIER_ARGS, operationCost } from "../../src/graphql/cost.ts";
import { loadTypeDefs } from "../../src/graphql/schema.ts";
import { MAX_PATH_LENGTH } from "../../src/modules/graph/paths.ts";
import type { StoredSizes } from "../../src/modules/sizes/index.ts";

const schema = buildSchema(loadTypeDefs());
const objectFields = () =>
  Object.values(schema.getTypeMap())
    .filter((t) => isObjectType(t) && !t.name.startsWith("__"))
    .flatMap((t) => Object.values((t as any).getFields() as Record<string, any>).map((f) => ({ key: `${t.name}.${f.name}`, f })));

describe("list-valued fields", () => {
  it("each takes first/k or has a stored size in the cost table", () => {
    const unpriced = objectFields()
      .filter(({ key, f }) => isListType(f.type) && !LIST_SIZES[key])
      .filter(({ key, f }) => !f.args.some((a: any) => MULTIPLIER_ARGS.includes(a.name) || a.name === FIELD_MULTIPLIER_ARGS[key]))
      .map(({ key }) => key);
    expect(unpriced, "list fields with neither first/k nor an entry in LIST_SIZES (src/graphql/cost.ts)").toEqual([]);
  });

  it("the cost table names only list fields the schema has", () => {
    const lists = new Set(objectFields().filter(({ f }) => isListType(f.type)).map(({ key }) => key));
    expect(Object.keys(LIST_SIZES).filter((k) => !lists.has(k))).toEqual([]);
    const fields = new Set(objectFields().map(({ key }) => key));
    for (const [key, arg] of Object.entries(FIELD_MULTIPLIER_ARGS)) {
      expect(fields.has(key), key).toBe(true);
      expect(objectFields().find((x) => x.key === key)!.f.args.some((a: any) => a.name === arg), `${key}(${arg})`).toBe(true);
    }
  });

  it("a graph path's node list is bounded by the longest path graphPaths allows", () => {
    expect(LIST_SIZES["GraphPath.nodes"]).toEqual({ fixed: MAX_PATH_LENGTH + 1 });
  });

  it("the paged ones are what the table does not list (no field is both)", () => {
    const both = objectFields().filter(({ key, f }) => LIST_SIZES[key] && f.args.some((a: any) => MULTIPLIER_ARGS.includes(a.name)));
    expect(both.map((x) => x.key)).toEqual([]);
  });
});

describe("stored-size charge", () => {
  const sizes = { dIn: 768, tokens: 128, explanationsPerFeature: 3 } as Partial<StoredSizes>;
  const cost = (q: string, s: Partial<StoredSizes> = sizes) => {
    const op = parse(q).definitions[0] as OperationDefinitionNode;
    return operationCost(schema, schema.getQueryType()!, op.selectionSet, {}, {}, (k) => s[k] ?? 0);
  };
  it("charges a scalar list per stored value and multiplies by the page around it", () => {
    expect(cost(`{ feature(saeId: "s", index: 1) { decoder } }`)).toBe(1 + 1 + 768);
    // features(first: 10): connection, edges, node, decoder.
    expect(cost(`{ features(saeId: "s", first: 10) { edges { node { decoder } } } }`)).toBe(1 + 10 * (1 + 1 * (1 + (1 + 768))));
    expect(cost(`{ feature(saeId: "s", index: 1) { topActivations(first: 5) { tokens values } } }`)).toBe(1 + 1 + 5 * (2 * (1 + 128)));
  });
  it("charges an object list per stored element", () => {
    expect(cost(`{ feature(saeId: "s", index: 1) { explanations { text method } } }`)).toBe(1 + 1 + 3 * 2);
    expect(cost(`{ feature(saeId: "s", index: 1) { explanations { text } } }`, {})).toBe(1 + 1);
  });
  it("multiplies a density histogram by its bins", () => {
    expect(cost(`{ sae(id: "s") { stats { densityHistogram(bins: 100) { bins { count } } } } }`)).toBe(1 + 1 + 1 + 100 * (1 + 1));
  });
});
