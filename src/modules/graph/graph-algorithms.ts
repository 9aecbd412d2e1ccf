// The searches the graph service runs on its cached graphs: the index is built once per cached
// MemGraph (prepare) and every graphPaths / graphMediators call reuses it.
import { invariant } from "../../errors.ts";
import { indexGraph, isGraphIndex, type GraphIndex } from "./graph-index.ts";
import type { GraphAlgorithms } from "./graph.service.ts";
import { graphMediators } from "./mediators.ts";
import { graphPaths, preparePathBounds } from "./paths.ts";

function prepared(p: unknown): GraphIndex {
  invariant(typeof p === "object" && p !== null && isGraphIndex(p as GraphIndex), "the graph was prepared by graphAlgorithms.prepare");
  return p as GraphIndex;
}

export const graphAlgorithms: GraphAlgorithms = {
  prepare: (g) => {
    const index = indexGraph(g);
    // graphPaths' default maxLength (schema.graphql).
    preparePathBounds(index, 6);
    return index;
  },
  paths: (p, o, limits) => graphPaths(prepared(p), o, limits),
  mediators: (p, o, limits) => graphMediators(prepared(p), o, limits),
};
