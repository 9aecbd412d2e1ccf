// Node ids and global feature ids of circuit-tracer graphs. Node ids: features
// "{layer}_{index}_{ctx}", reconstruction errors "{layer}_-1_{ctx}", embeddings "E_{token}_{ctx}",
// logits "{nLayers+1}_{token}_{ctx}". A feature node's `feature` is a global id of (layer, index):
// schema 1 uses the Cantor pairing, schema 0 uses index + layer·10^ceil(log10 nFeatures). Both are
// decoded and must agree with the node id, since users mix the two up.
import { fileError } from "../../errors.ts";
import type { GraphNodeKind } from "./graph.types.ts";

/** Cantor pairing π(layer, index) = (layer + index)(layer + index + 1)/2 + index. */
export function cantorPair(layer: number, index: number): number {
  return ((layer + index) * (layer + index + 1)) / 2 + index;
}

/** The (layer, index) whose Cantor pairing is z. */
export function cantorUnpair(z: number): { layer: number; index: number } {
  let w = Math.floor((Math.sqrt(8 * z + 1) - 1) / 2);
  // Float rounding near perfect squares: settle w exactly.
  while ((w * (w + 1)) / 2 > z) w--;
  while (((w + 1) * (w + 2)) / 2 <= z) w++;
  const index = z - (w * (w + 1)) / 2;
  return { layer: w - index, index };
}

/** Schema 0: index + layer·10^p, with 10^p ≥ nFeatures. */
export function legacyFeatureId(layer: number, index: number, p: number): number {
  return index + layer * 10 ** p;
}

const FEATURE_ID = /^(\d+)_(\d+)_(\d+)$/;
const ERROR_ID = /^(\d+)_(-?\d+)_(\d+)$/;
const EMBEDDING_ID = /^E_(-?\d+)_(\d+)$/;

interface Legacy {
  at: string;
  layer: number;
  index: number;
  feature: number;
}

/** Checks node ids as nodes are read; finish() checks what needs the whole graph (schema 0). */
export class FeatureIdCheck {
  private readonly legacy: Legacy[] = [];
  private maxIndex = -1;

  constructor(
    private readonly file: string,
    readonly schema: 0 | 1,
  ) {}

  /** The feature index of a FEATURE node (null for other kinds); throws on an inconsistent id. */
  check(at: string, kind: GraphNodeKind, nodeId: string, layer: string, ctxIdx: number, feature: number | null): number | null {
    const bad = (why: string) => fileError(this.file, `${at}.node_id`, `${JSON.stringify(nodeId)} ${why}`);
    const ctxOf = (m: RegExpExecArray, group: number) => {
      if (Number(m[group]) !== ctxIdx) throw bad(`ends in position ${m[group]} but ctx_idx is ${ctxIdx}`);
    };
    const layerOf = (m: RegExpExecArray) => {
      if (m[1] !== layer) throw bad(`starts with layer ${m[1]} but layer is ${JSON.stringify(layer)}`);
    };
    if (kind === "EMBEDDING") {
      const m = EMBEDDING_ID.exec(nodeId);
      if (!m) throw bad("is not an embedding id E_{tokenId}_{ctxIdx}");
      ctxOf(m, 2);
      return null;
    }
    if (kind === "ERROR") {
      const m = ERROR_ID.exec(nodeId);
      if (!m) throw bad("is not an error id {layer}_-1_{ctxIdx}");
      layerOf(m);
      ctxOf(m, 3);
      return null;
    }
    const m = FEATURE_ID.exec(nodeId);
    if (!m) throw bad(kind === "LOGIT" ? "is not a logit id {layer}_{tokenId}_{ctxIdx}" : "is not a feature id {layer}_{featureIndex}_{ctxIdx}");
    layerOf(m);
    ctxOf(m, 3);
    if (kind === "LOGIT") return null;
    const l = Number(m[1]);
    const index = Number(m[2]);
    if (!Number.isSafeInteger(index) || index > 2 ** 31 - 1) throw bad("has a feature index beyond 2^31 - 1");
    if (feature !== null) {
      if (this.schema === 1) {
        if (feature !== cantorPair(l, index)) {
          const d = feature >= 0 ? cantorUnpair(feature) : null;
          throw fileError(
            this.file,
            `${at}.feature`,
            `${feature} is not the schema-1 id of layer ${l}, index ${index} (Cantor pairing gives ${cantorPair(l, index)}` +
              (d ? `; ${feature} decodes to layer ${d.layer}, index ${d.index})` : ")"),
          );
        }
      } else {
        this.legacy.push({ at, layer: l, index, feature });
      }
    }
    this.maxIndex = Math.max(this.maxIndex, index);
    return index;
  }

  /** Schema 0: one power of ten for the whole graph, larger than every index. */
  finish(): void {
    if (this.schema !== 0) return;
    let p: number | null = null;
    let from = "";
    for (const x of this.legacy) {
      const wrong = (why: string) =>
        fileError(this.file, `${x.at}.feature`, `${x.feature} is not the schema-0 id of layer ${x.layer}, index ${x.index} (index + layer·10^k): ${why}`);
      if (x.layer === 0) {
        if (x.feature !== x.index) throw wrong(`layer 0 ids equal the index`);
        continue;
      }
      const q = (x.feature - x.index) / x.layer;
      const k = Math.round(Math.log10(q));
      if (!(q > 0) || !Number.isInteger(q) || 10 ** k !== q) throw wrong(`(id - index) / layer = ${q} is not a power of ten`);
      if (p === null) {
        p = k;
        from = x.at;
      } else if (p !== k) {
        throw wrong(`it uses 10^${k} but ${from} uses 10^${p}`);
      }
      if (10 ** k <= this.maxIndex) throw wrong(`10^${k} is not above the largest feature index ${this.maxIndex}`);
    }
  }
}
