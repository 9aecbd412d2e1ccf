// Which graph tensor holds a TransformerLens hook point of GPT-2, in a graph exported by
// optimum / torch.onnx (node names are module scopes: /transformer/h.5/ln_1/ReduceMean, …).
// The tensors are found by structure first, because the exporter's per-scope op counters shift
// between transformers versions (an extra Add in /transformer moves the embedding sum from
// Add_output_0 to Add_1_output_0): block L's residual stream before the block is whatever its
// first LayerNorm (h.L/ln_1) reads, and so on. The names optimum writes today are the fallback.
import type { GraphIndex } from "./onnx-graph.ts";

export const GPT2_HOOKS = ["hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out"] as const;
export type Gpt2Hook = (typeof GPT2_HOOKS)[number];

const HOOK_RE = /^blocks\.(\d+)\.(hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|hook_mlp_out)$/;

export function parseGpt2Hook(hookName: string): { layer: number; hook: Gpt2Hook } | null {
  const m = HOOK_RE.exec(hookName);
  return m ? { layer: Number(m[1]), hook: m[2] as Gpt2Hook } : null;
}

/** Where optimum's GPT-2 export puts each hook (transformers 4.3x-4.5x, no past in /transformer). */
export function conventionalGpt2Tensor(layer: number, hook: Gpt2Hook): string {
  const h = `/transformer/h.${layer}`;
  switch (hook) {
    case "hook_resid_pre":
      return layer === 0 ? "/transformer/Add_output_0" : `/transformer/h.${layer - 1}/Add_1_output_0`;
    case "hook_resid_mid":
      return `${h}/Add_output_0`;
    case "hook_resid_post":
      return `${h}/Add_1_output_0`;
    case "hook_attn_out":
      return `${h}/attn/c_proj/Reshape_1_output_0`;
    case "hook_mlp_out":
      return `${h}/mlp/c_proj/Reshape_1_output_0`;
  }
}

export interface ResolvedTensor {
  tensor: string;
  /** How it was found, for the user: "graph structure", "optimum's name", "override". */
  how: string;
}

class Structure {
  private readonly producers = new Map<string, { name: string; opType: string; inputs: string[] }>();
  constructor(private readonly g: GraphIndex) {
    for (const n of g.nodes) for (const o of n.outputs) this.producers.set(o, n);
  }

  /** The node-name prefix of GPT-2's blocks (e.g. "/transformer/"), from h.0/ln_1. */
  prefix(): string | null {
    for (const n of this.g.nodes) {
      const i = n.name.indexOf("h.0/ln_1/");
      if (i >= 0) return n.name.slice(0, i);
    }
    return null;
  }

  /** The one activation tensor that nodes in scope read from outside it (weights and constants excluded). */
  inputOfScope(scope: string): string | null {
    const inScope = this.g.nodes.filter((n) => n.name.startsWith(`${scope}/`));
    if (inScope.length === 0) return null;
    const produced = new Set(inScope.flatMap((n) => n.outputs));
    const found = new Set<string>();
    for (const n of inScope) {
      for (const i of n.inputs) {
        if (!i || produced.has(i) || this.g.initializers.has(i)) continue;
        const p = this.producers.get(i);
        if (!p || p.opType === "Constant") continue;
        found.add(i);
      }
    }
    return found.size === 1 ? [...found][0]! : null;
  }

  /** The other input of the Add that produced sum from residual. */
  otherAddend(sum: string, residual: string): string | null {
    const p = this.producers.get(sum);
    if (!p || p.opType !== "Add" || !p.inputs.includes(residual)) return null;
    const rest = p.inputs.filter((i) => i !== residual);
    return rest.length === 1 ? rest[0]! : null;
  }
}

function structural(g: GraphIndex, layer: number, hook: Gpt2Hook, nLayer: number): string | null {
  const s = new Structure(g);
  const pre = s.prefix();
  if (pre === null) return null;
  const residPre = (l: number) => (l < nLayer ? s.inputOfScope(`${pre}h.${l}/ln_1`) : s.inputOfScope(`${pre}ln_f`));
  const residMid = (l: number) => s.inputOfScope(`${pre}h.${l}/ln_2`);
  switch (hook) {
    case "hook_resid_pre":
      return residPre(layer);
    case "hook_resid_mid":
      return residMid(layer);
    case "hook_resid_post":
      return residPre(layer + 1);
    case "hook_attn_out": {
      const [mid, before] = [residMid(layer), residPre(layer)];
      return mid && before ? s.otherAddend(mid, before) : null;
    }
    case "hook_mlp_out": {
      const [post, mid] = [residPre(layer + 1), residMid(layer)];
      return post && mid ? s.otherAddend(post, mid) : null;
    }
  }
}

function hasTensor(g: GraphIndex, name: string): boolean {
  return g.nodes.some((n) => n.outputs.includes(name)) || g.inputs.some((v) => v.name === name);
}

/**
 * The tensor for a GPT-2 hook, or null when the name is not a GPT-2 hook or the graph has
 * neither the structure nor optimum's name for it (then the user names it with --tensor).
 */
export function resolveGpt2Tensor(g: GraphIndex, hookName: string, nLayer: number): ResolvedTensor | null {
  const parsed = parseGpt2Hook(hookName);
  if (!parsed || parsed.layer >= nLayer) return null;
  const byStructure = structural(g, parsed.layer, parsed.hook, nLayer);
  if (byStructure) return { tensor: byStructure, how: "graph structure" };
  const named = conventionalGpt2Tensor(parsed.layer, parsed.hook);
  return hasTensor(g, named) ? { tensor: named, how: "optimum's name" } : null;
}

/** Checks that a user-named tensor exists, with the closest names in the error. */
export function checkTensorExists(g: GraphIndex, tensor: string): string | null {
  if (hasTensor(g, tensor)) return null;
  const names = g.nodes.flatMap((n) => n.outputs);
  const common = (n: string) => {
    let i = 0;
    while (i < n.length && i < tensor.length && n[i] === tensor[i]) i++;
    return i;
  };
  // Longest shared prefix first (same scope), then the shortest names (the scope's own ops).
  const scored = names
    .map((n) => ({ n, score: common(n) }))
    .filter((x) => x.score > 1)
    .sort((a, b) => b.score - a.score || a.n.length - b.n.length)
    .slice(0, 5)
    .map((x) => x.n);
  return scored.length ? `closest names: ${scored.join(", ")}` : `the graph has ${names.length} tensors; none is close`;
}
