// Feature lists through GraphQL on both backends: CRUD, Feature.lists, bounds, every refused
// call changing nothing, the API key over HTTP, and deleting an SAE removing its items.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";
import { startTestServer } from "../../helpers/http-server.ts";

let t: TestApp;
let saeId: string;
const OTHER = "test-model/res/1";

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_PAGE_SIZE: "100" });
  ({ saeId } = await seedFeatures(t.app, { n: 10, examples: 0 }));
  await seedFeatures(t.app, { saeId: OTHER, n: 4, examples: 0 });
  await seedFeatures(t.app, { saeId: "test-model/hidden", n: 2, examples: 0, status: "loading" });
});
afterAll(async () => t?.close());

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const codes = (r: { errors?: readonly unknown[] }) => (r.errors ?? []).map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
const messages = (r: { errors?: readonly unknown[] }) => (r.errors ?? []).map((e) => (e as { message: string }).message);
const data = (r: { data?: unknown; errors?: readonly unknown[] }) => {
  expect(r.errors).toBeUndefined();
  return r.data as any;
};

/** Every row the list tables hold, to show that a refused call wrote nothing. */
async function snapshot() {
  const lists = await t.app.db.prisma.$queryRaw<unknown[]>`SELECT id, name, description, updated_at FROM feature_list ORDER BY id`;
  const items = await t.app.db.prisma.$queryRaw<unknown[]>`SELECT list_id, sae_id, feature_idx, note FROM feature_list_item ORDER BY 1, 2, 3`;
  return { lists, items };
}

const LIST = `id name description itemCount items { note feature { id index sae { id } } }`;

async function createList(name: string, description?: string) {
  return data(await q(`mutation($n: String!, $d: String) { createList(name: $n, description: $d) { ${LIST} } }`, { n: name, d: description })).createList;
}

describe("lists", () => {
  it("creates, fills, reads, updates a note, removes and deletes", async () => {
    const l = await createList("  brigades and units  ", "military words");
    expect(l).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/), name: "brigades and units", description: "military words", itemCount: 0, items: [] });

    const add = `mutation($l: ID!, $s: ID!, $i: Int!, $n: String) { addToList(listId: $l, saeId: $s, index: $i, note: $n) { ${LIST} } }`;
    data(await q(add, { l: l.id, s: saeId, i: 3, n: "fires on brigade" }));
    data(await q(add, { l: l.id, s: OTHER, i: 1 }));
    const after = data(await q(add, { l: l.id, s: saeId, i: 3, n: "  a better note " })).addToList;
    // Re-adding replaces the note and keeps the item's place.
    expect(after.itemCount).toBe(2);
    expect(after.items).toEqual([
      { note: "a better note", feature: { id: `${saeId}:3`, index: 3, sae: { id: saeId } } },
      { note: null, feature: { id: `${OTHER}:1`, index: 1, sae: { id: OTHER } } },
    ]);

    const read = data(await q(`query($id: ID!) { list(id: $id) { ${LIST} } lists { id name } }`, { id: l.id }));
    expect(read.list).toEqual(after);
    expect(read.lists).toContainEqual({ id: l.id, name: "brigades and units" });

    const fl = data(await q(`query($s: ID!) { feature(saeId: $s, index: 3) { lists { id name } } other: feature(saeId: $s, index: 4) { lists { id } } }`, { s: saeId }));
    expect(fl.feature.lists).toEqual([{ id: l.id, name: "brigades and units" }]);
    expect(fl.other.lists).toEqual([]);

    const removed = data(await q(`mutation($l: ID!, $s: ID!) { removeFromList(listId: $l, saeId: $s, index: 3) { ${LIST} } }`, { l: l.id, s: saeId })).removeFromList;
    expect(removed.items.map((i: any) => i.feature.id)).toEqual([`${OTHER}:1`]);
    // Removing a feature that is not on the list leaves it as it is.
    expect(data(await q(`mutation($l: ID!, $s: ID!) { removeFromList(listId: $l, saeId: $s, index: 9) { itemCount } }`, { l: l.id, s: saeId })).removeFromList.itemCount).toBe(1);

    expect(data(await q(`mutation($id: ID!) { deleteList(id: $id) }`, { id: l.id })).deleteList).toBe(true);
    expect(data(await q(`mutation($id: ID!) { deleteList(id: $id) }`, { id: l.id })).deleteList).toBe(false);
    expect(data(await q(`query($id: ID!) { list(id: $id) { id } }`, { id: l.id })).list).toBeNull();
    expect((await snapshot()).items.filter((i: any) => i.list_id === l.id)).toEqual([]);
  });

  it("lists newest first, bounded by first", async () => {
    const a = await createList("first list");
    const b = await createList("second list");
    const r = data(await q(`{ all: lists { id createdAt } one: lists(first: 1) { id } }`));
    const ids = r.all.map((x: any) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    // Two lists made within the same millisecond may come in either order.
    const times = r.all.map((x: any) => Date.parse(x.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(r.one).toHaveLength(1);
    const bad = await q(`{ lists(first: 101) { id } }`);
    expect(codes(bad)).toEqual(["BAD_USER_INPUT"]);
    expect(messages(bad)[0]).toMatch(/first must be between 0 and 100/);
  });

  it("refuses bad input with a clear error and changes nothing", async () => {
    const l = await createList("target");
    data(await q(`mutation($l: ID!, $s: ID!) { addToList(listId: $l, saeId: $s, index: 0, note: "kept") { id } }`, { l: l.id, s: saeId }));
    const before = await snapshot();
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [`mutation($n: String!) { createList(name: $n) { id } }`, { n: "   " }, "BAD_USER_INPUT", /name must not be empty/],
      [`mutation($n: String!) { createList(name: $n) { id } }`, { n: "x".repeat(201) }, "BAD_USER_INPUT", /name must be at most 200 characters/],
      [`mutation($n: String!) { createList(name: $n) { id } }`, { n: "a\u0000b" }, "BAD_USER_INPUT", /name must not contain NUL/],
      [`mutation($d: String) { createList(name: "ok", description: $d) { id } }`, { d: "d".repeat(2001) }, "BAD_USER_INPUT", /description must be at most 2000/],
      [`mutation($l: ID!, $s: ID!) { addToList(listId: $l, saeId: $s, index: 1, note: "${"n".repeat(2001)}") { id } }`, { l: l.id, s: saeId }, "BAD_USER_INPUT", /note must be at most 2000/],
      [`mutation($l: ID!, $s: ID!) { addToList(listId: $l, saeId: $s, index: -1) { id } }`, { l: l.id, s: saeId }, "BAD_USER_INPUT", /index must be a non-negative integer/],
      [`mutation($l: ID!, $s: ID!) { addToList(listId: $l, saeId: $s, index: 1) { id } }`, { l: "nope", s: saeId }, "NOT_FOUND", /no list with id nope/],
      [`mutation($l: ID!) { addToList(listId: $l, saeId: "no/such", index: 1) { id } }`, { l: l.id }, "NOT_FOUND", /no SAE with id no\/such/],
      [`mutation($l: ID!) { addToList(listId: $l, saeId: "test-model/hidden", index: 0) { id } }`, { l: l.id }, "NOT_FOUND", /no SAE with id test-model\/hidden/],
      [`mutation($l: ID!, $s: ID!) { addToList(listId: $l, saeId: $s, index: 10) { id } }`, { l: l.id, s: saeId }, "NOT_FOUND", /has no feature 10/],
      [`mutation($l: ID!, $s: ID!) { removeFromList(listId: $l, saeId: $s, index: 0) { id } }`, { l: "nope", s: saeId }, "NOT_FOUND", /no list with id nope/],
      [`query($l: ID!) { list(id: $l) { items(first: 1001) { note } } }`, { l: l.id }, "BAD_USER_INPUT", /first must be between 0 and 1000/],
    ];
    for (const [query, vars, code, msg] of cases) {
      const r = await q(query, vars);
      expect(codes(r), query).toEqual([code]);
      expect(messages(r)[0]).toMatch(msg);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("needs the API key for every list mutation when one is configured", async () => {
    const server = await startTestServer(t.app, { apiKeys: ["s3cret"] });
    try {
      const before = await snapshot();
      const l = before.lists[0] as { id: string };
      for (const m of [
        `mutation { createList(name: "x") { id } }`,
        `mutation { addToList(listId: "${l.id}", saeId: "${saeId}", index: 5) { id } }`,
        `mutation { removeFromList(listId: "${l.id}", saeId: "${saeId}", index: 0) { id } }`,
        `mutation { deleteList(id: "${l.id}") }`,
        `mutation { addExplanation(saeId: "${saeId}", index: 5, text: "x") { id } }`,
      ]) {
        const r = await server.post({ query: m });
        expect(r.json.errors?.[0]?.extensions?.code, m).toBe("UNAUTHENTICATED");
      }
      expect(await snapshot()).toEqual(before);
      const ok = await server.post({ query: `mutation { createList(name: "with key") { name } }` }, { authorization: "Bearer s3cret" });
      expect(ok.json).toEqual({ data: { createList: { name: "with key" } } });
      // Reads stay open.
      expect((await server.post({ query: `{ lists(first: 1) { name } }` })).json.data.lists).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it("charges list fields by the cost limit", async () => {
    const server = await startTestServer(t.app, { maxCost: 500 });
    try {
      // 100 lists x 1000 items x a feature each: far above the limit before anything runs.
      const r = await server.post({ query: `{ lists { items { feature { id label } } } }` });
      expect(JSON.stringify(r.json.errors)).toMatch(/cost/i);
      const small = await server.post({ query: `{ lists(first: 2) { items(first: 5) { note } } }` });
      expect(small.json.errors).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("loses an SAE's items when the SAE is deleted, keeping the list", async () => {
    await seedFeatures(t.app, { saeId: "test-model/doomed", n: 3, examples: 0 });
    const l = await createList("mixed");
    for (const [s, i] of [["test-model/doomed", 2], [saeId, 7]] as const)
      data(await q(`mutation($l: ID!, $s: ID!, $i: Int!) { addToList(listId: $l, saeId: $s, index: $i) { id } }`, { l: l.id, s, i }));
    expect(data(await q(`mutation { deleteSae(id: "test-model/doomed") }`)).deleteSae).toBe(true);
    const r = data(await q(`query($id: ID!) { list(id: $id) { itemCount items { feature { id } } } }`, { id: l.id }));
    expect(r.list).toEqual({ itemCount: 1, items: [{ feature: { id: `${saeId}:7` } }] });
    const left = await t.app.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM feature_list_item WHERE sae_id = 'test-model/doomed'`;
    expect(left[0]!.n).toBe(0);
  });
});
