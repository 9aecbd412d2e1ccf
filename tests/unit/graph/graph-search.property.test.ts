// graphPaths and graphMediators against brute-force enumeration on random small graphs: negative and
// zero weights, repeated weights (ties), error nodes, cycles and self-loops for the path search.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors.ts";
import { compareIds, indexGraph, type GraphNodeKindName } from "../../../src/modules/graph/graph-index.ts";
import { graphMediators } from "../../../src/modules/graph/mediators.ts";
import { graphPaths } from "../../../src/modules/graph/paths.ts";

interface SmallGraph {
  nodes: Array<{ nodeId: string; kind: GraphNodeKindName }>;
  links: Array<{ source: string; target: string; weight: number }>;
}

const KINDS: GraphNodeKindName[] = ["FEATURE", "FEATURE", "FEATURE", "ERROR", "EMBEDDING", "EMBEDDING", "LOGIT"];
// Few distinct magnitudes, so equal |weights| and equal path products (ties) are common.
const WEIGHTS = [-2, -1, 0, 1, 1, 1, 2];

function smallGraph(acyclic: boolean): fc.Arbitrary<SmallGraph> {
  return fc.integer({ min: 2, max: 7 }).chain((n) =>
    fc.record({
      kinds: fc.array(fc.constantFrom(...KINDS), { minLength: n, maxLength: n }),
      // Ids whose string order differs from their position order.
      names: fc.uniqueArray(fc.stringMatching(/^[a-c0-9_]{1,3}$/), { minLength: n, maxLength: n }),
      // One optional link per ordered pair (about 40% present), in a shuffled file order.
      matrix: fc.array(fc.option(fc.constantFrom(...WEIGHTS), { freq: 3 }), { minLength: n * n, maxLength: n * n }),
      order: fc.array(fc.nat(), { minLength: n * n, maxLength: n * n }),
    }).map(({ kinds, names, matrix, order }) => {
      const links: Array<SmallGraph["links"][number] & { key: number }> = [];
      matrix.forEach((weight, cell) => {
        const [s, t] = [Math.floor(cell / n), cell % n];
        if (weight === null || (acyclic && s >= t)) return;
        links.push({ source: names[s]!, target: names[t]!, weight, key: order[cell]! });
      });
      links.sort((x, y) => x.key - y.key);
      return { nodes: names.map((nodeId, i) => ({ nodeId, kind: kinds[i]! })), links: links.map(({ key: _, ...l }) => l) };
    }),
  );
}

/** A(s→t) from the definition, summing the denominator in link order as the index does. */
function normaliser(g: SmallGraph): (s: string, t: string, w: number) => number {
  const denom = new Map<string, number>();
  for (const l of g.links) denom.set(l.target, (denom.get(l.target) ?? 0) + Math.abs(l.weight));
  return (_s, t, w) => (denom.get(t)! === 0 ? 0 : w / denom.get(t)!);
}

function allSimplePathsInto(g: SmallGraph, to: string, maxLength: number): Array<{ nodes: string[]; links: SmallGraph["links"] }> {
  const out: Array<{ nodes: string[]; links: SmallGraph["links"] }> = [];
  const walk = (nodes: string[], links: SmallGraph["links"]) => {
    if (links.length > 0) out.push({ nodes: [...nodes], links: [...links] });
    if (links.length === maxLength) return;
    for (const l of g.links) {
      if (l.target !== nodes[0] || nodes.includes(l.source)) continue;
      walk([l.source, ...nodes], [l, ...links]);
    }
  };
  walk([to], []);
  return out;
}

/** Every qualifying path, in graphPaths' order. */
function brutePaths(g: SmallGraph, to: string, from: string | null, maxLength: number) {
  const a = normaliser(g);
  const kind = new Map(g.nodes.map((x) => [x.nodeId, x.kind]));
  const paths = allSimplePathsInto(g, to, maxLength)
    .filter((p) => (from === null ? kind.get(p.nodes[0]!) === "EMBEDDING" : p.nodes[0] === from))
    .map((p) => {
      let weight = 1;
      for (let i = p.links.length - 1; i >= 0; i--) weight = a(p.links[i]!.source, p.links[i]!.target, p.links[i]!.weight) * weight;
      return { nodeIds: p.nodes, weight };
    });
  return paths.sort((x, y) => Math.abs(y.weight) - Math.abs(x.weight) || compareSequences(x.nodeIds, y.nodeIds));
}

function compareSequences(x: string[], y: string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return compareIds(x[i]!, y[i]!);
  return x.length - y.length;
}

/** Every feature's indirect effect by enumerating paths, or "cycle" when the inner features have one. */
function bruteIndirect(g: SmallGraph, target: string): Map<string, number> | "cycle" {
  const a = normaliser(g);
  const kind = new Map(g.nodes.map((x) => [x.nodeId, x.kind]));
  const innerOk = (x: string) => kind.get(x) === "FEATURE" && x !== target;
  // Inner nodes: features that reach the target through features only.
  const inner = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const l of g.links) {
      if (innerOk(l.source) && !inner.has(l.source) && (l.target === target || inner.has(l.target))) {
        inner.add(l.source);
        changed = true;
      }
    }
  }
  const reachesSelf = (start: string): boolean => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const x = stack.pop()!;
      for (const l of g.links) {
        if (l.source !== x || !inner.has(l.target)) continue;
        if (l.target === start) return true;
        if (!seen.has(l.target)) seen.add(l.target), stack.push(l.target);
      }
    }
    return false;
  };
  if ([...inner].some(reachesSelf)) return "cycle";
  const sumFrom = (x: string, visited: Set<string>, product: number, depth: number): number => {
    let total = 0;
    for (const l of g.links) {
      if (l.source !== x) continue;
      const p = product * a(l.source, l.target, l.weight);
      if (l.target === target) total += depth >= 1 ? p : 0;
      else if (innerOk(l.target) && !visited.has(l.target)) total += sumFrom(l.target, new Set([...visited, l.target]), p, depth + 1);
    }
    return total;
  };
  return new Map(g.nodes.filter((x) => x.kind === "FEATURE" && x.nodeId !== target).map((x) => [x.nodeId, sumFrom(x.nodeId, new Set([x.nodeId]), 1, 0)]));
}

const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * (1 + Math.abs(y));

describe("graphPaths equals brute-force enumeration", () => {
  const stats = { cut: 0, ties: 0 };
  it("on random graphs with cycles, self-loops, ties and negative weights", () => {
    const args = fc.record({ to: fc.nat(7), from: fc.option(fc.nat(7)), k: fc.integer({ min: 1, max: 4 }), maxLength: fc.integer({ min: 1, max: 4 }) });
    fc.assert(
      fc.property(smallGraph(false), args, (g, o) => {
        const to = g.nodes[o.to % g.nodes.length]!.nodeId;
        const from = o.from === null ? null : g.nodes[o.from % g.nodes.length]!.nodeId;
        const got = graphPaths(indexGraph(g), { to, from, k: o.k, maxLength: o.maxLength });
        const all = brutePaths(g, to, from, o.maxLength);
        expect(got).toEqual(all.slice(0, o.k));
        if (all.length > o.k) stats.cut++;
        if (all.some((p, i) => i > 0 && i <= o.k && Math.abs(p.weight) === Math.abs(all[i - 1]!.weight))) stats.ties++;
      }),
      { numRuns: 300, seed: 1717 },
    );
    // The cases exercise pruning (more paths than k) and the tie order, not only easy ones.
    // (seed 1717: 78 and 19)
    expect(stats.cut).toBeGreaterThan(50);
    expect(stats.ties).toBeGreaterThan(10);
  });
});

describe("graphMediators equals brute-force enumeration", () => {
  const run = (acyclic: boolean) =>
    fc.assert(
      fc.property(smallGraph(acyclic), fc.nat(7), fc.integer({ min: 1, max: 8 }), (g, t, k) => {
        const target = g.nodes[t % g.nodes.length]!.nodeId;
        const expected = bruteIndirect(g, target);
        if (expected === "cycle") {
          expect(() => graphMediators(indexGraph(g), { target, k })).toThrow(AppError);
          expect(() => graphMediators(indexGraph(g), { target, k })).toThrow(/target: the feature nodes that reach .* form a cycle/);
          return;
        }
        const got = graphMediators(indexGraph(g), { target, k });
        expect(got).toHaveLength(Math.min(k, expected.size));
        for (const m of got) {
          expect(close(m.indirectEffect, expected.get(m.nodeId)!), `${m.nodeId}: ${m.indirectEffect} vs ${expected.get(m.nodeId)}`).toBe(true);
          const into = g.links.filter((l) => l.target === m.nodeId);
          const total = into.reduce((s, l) => s + Math.abs(l.weight), 0);
          const prompt = into.filter((l) => g.nodes.find((x) => x.nodeId === l.source)!.kind === "EMBEDDING").reduce((s, l) => s + Math.abs(l.weight), 0);
          expect(close(m.directFromPrompt, total === 0 ? 0 : prompt / total)).toBe(true);
        }
        for (let i = 1; i < got.length; i++) {
          const [x, y] = [got[i - 1]!, got[i]!];
          expect(Math.abs(x.indirectEffect) > Math.abs(y.indirectEffect) || (Math.abs(x.indirectEffect) === Math.abs(y.indirectEffect) && compareIds(x.nodeId, y.nodeId) < 0)).toBe(true);
        }
        if (got.length === k) {
          const returned = new Set(got.map((m) => m.nodeId));
          const floor = Math.abs(got[k - 1]!.indirectEffect);
          for (const [id, v] of expected) if (!returned.has(id)) expect(Math.abs(v)).toBeLessThanOrEqual(floor + 1e-9 * (1 + floor));
        }
      }),
      { numRuns: 250, seed: acyclic ? 2024 : 4202 },
    );
  it("on random DAGs", () => run(true));
  it("on random graphs with cycles: exact where the feature subgraph into the target is acyclic, refused where not", () => run(false));
});
