// Synthetic SAELens checkpoints for tests, the malformed corpus and benchmarks:
// deterministic pseudo-random weights, any dtype, optional overrides per tensor.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TensorSpec, type WriteDtype, writeSafetensors } from "../../src/ingest/saelens/safetensors-writer.ts";

export interface CheckpointSpec {
  dIn: number;
  dSae: number;
  dtype?: WriteDtype;
  architecture?: string | null;
  seed?: number;
  /** Extra or replacement cfg.json keys (null deletes a key). */
  cfg?: Record<string, unknown>;
  /** Replace or (with null) drop tensors. */
  tensors?: Record<string, TensorSpec | null>;
  sparsity?: boolean;
}

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}

/** Element values of the default tensors (so tests can check what was stored). */
export function weightValue(seed: number, tensor: "W_dec" | "W_enc", i: number): number {
  // A cheap hash, so random access needs no state.
  let x = (i + 1) * 2654435761 + seed * 40503 + (tensor === "W_enc" ? 97 : 0);
  x = (x ^ (x >>> 15)) * 2246822519;
  x = (x ^ (x >>> 13)) * 3266489917;
  x ^= x >>> 16;
  return ((x >>> 0) / 4294967296 - 0.5) * 0.2;
}

export async function writeCheckpoint(dir: string, spec: CheckpointSpec): Promise<void> {
  const { dIn, dSae } = spec;
  const dtype = spec.dtype ?? "F32";
  const seed = spec.seed ?? 1;
  const arch = spec.architecture === undefined ? "jumprelu" : spec.architecture;
  mkdirSync(dir, { recursive: true });
  const cfg: Record<string, unknown> = {
    ...(arch ? { architecture: arch } : {}),
    d_in: dIn,
    d_sae: dSae,
    dtype: "float32",
    apply_b_dec_to_input: true,
    metadata: { model_name: "toy-model", hook_name: "blocks.3.hook_resid_post", neuronpedia_id: "toy-model/3-res" },
  };
  for (const [k, v] of Object.entries(spec.cfg ?? {})) {
    if (v === null) delete cfg[k];
    else cfg[k] = v;
  }
  writeFileSync(join(dir, "cfg.json"), JSON.stringify(cfg, null, 2));
  const tensors: Record<string, TensorSpec | null> = {
    W_dec: { dtype, shape: [dSae, dIn], data: (i) => weightValue(seed, "W_dec", i) },
    W_enc: { dtype, shape: [dIn, dSae], data: (i) => weightValue(seed, "W_enc", i) },
    b_enc: { dtype, shape: [dSae], data: (i) => -0.01 * (i % 7) },
    b_dec: { dtype, shape: [dIn], data: (i) => 0.001 * i },
    ...(arch === "jumprelu" ? { threshold: { dtype, shape: [dSae], data: (i: number) => 0.1 + 0.001 * (i % 13) } } : {}),
    ...spec.tensors,
  };
  const present = Object.fromEntries(Object.entries(tensors).filter(([, t]) => t !== null)) as Record<string, TensorSpec>;
  await writeSafetensors(join(dir, "sae_weights.safetensors"), present, { format: "pt" });
  if (spec.sparsity) {
    await writeSafetensors(join(dir, "sparsity.safetensors"), {
      sparsity: { dtype: "F32", shape: [dSae], data: (i) => (i % 10 === 0 ? Number.NEGATIVE_INFINITY : -1 - (i % 5)) },
    });
  }
}
