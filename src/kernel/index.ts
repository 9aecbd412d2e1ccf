// The fast float32 matrix kernel: dense products and blocked top-k dot-product scans at BLAS
// speed, used by lineage, nearest-feature scans, precomputed neighbours and SAE training.
// Native (ONNX Runtime / MLAS) when it loads, otherwise a JavaScript fallback (100x slower).
import { availableParallelism } from "node:os";
import { createJsKernel } from "./js-kernel.ts";
import { createOnnxKernel } from "./onnx-kernel.ts";
import type { Kernel } from "./types.ts";

export type { GemmOptions, Kernel, TopKResult } from "./types.ts";
export { gemmReference, topKDotReference } from "./js-kernel.ts";

export interface KernelOptions {
  /** Intra-op threads for the native kernel (default: all cores). */
  threads?: number;
  /** 'auto' (default) = native, falling back to JavaScript if it cannot load; 'native' fails instead (config.kernel.backend). */
  backend?: "auto" | "native" | "js";
}

export async function createKernel(opts: KernelOptions = {}): Promise<Kernel> {
  const backend = opts.backend ?? "auto";
  if (backend === "js") return createJsKernel();
  const threads = Math.max(1, Math.trunc(opts.threads ?? availableParallelism()));
  try {
    return await createOnnxKernel({ threads });
  } catch (err) {
    if (backend === "native") throw err;
    process.emitWarning(`native matrix kernel unavailable, using the JavaScript fallback: ${(err as Error).message}`);
    return createJsKernel();
  }
}
