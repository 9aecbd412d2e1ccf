// The demo's nearest step: loads each demo SAE's decoder matrix into the scan cache, so the
// first nearestToVector after start-up does not pay for the load, and checks the scan against
// the stored exact neighbour lists on a few features (the scan path's top 32 must be the list).
// Idempotent and read-only.
import type { StepInput } from "./demo.types.ts";
import type { GeometryService } from "../modules/geometry/index.ts";
import { ErrorCode, isAppError } from "../errors.ts";
import { STORED_NEIGHBOURS } from "../modules/geometry/nearest.service.ts";

const PROBES = [0, 1, 2, 3, 4];

/** A probe feature without a decoder direction is skipped. */
function noDecoder(e: unknown): null {
  if (isAppError(e) && e.code === ErrorCode.BAD_USER_INPUT) return null;
  throw e;
}

/** Structurally a DemoStep. */
export const nearestStep = {
  name: "nearest",
  async run(ctx: StepInput<{ geometry: GeometryService }>): Promise<string> {
    const nearest = ctx.services.geometry.nearest;
    const native = ctx.services.geometry.nativeScan;
    const kernel = native ? `native 4-bit kernel (${native.variant})` : "int8 ONNX Runtime kernel";
    let agree = 0;
    let total = 0;
    const t0 = performance.now();
    for (const sae of ctx.saes) {
      for (const index of PROBES) {
        const key = { saeId: sae.id, index };
        // k above the stored list length takes the scan path; k within it reads the stored list.
        const scanned = await nearest.nearestFeatures(key, { k: STORED_NEIGHBOURS + 1 }).catch(noDecoder);
        if (!scanned) continue;
        const stored = await nearest.nearestFeatures(key, { k: STORED_NEIGHBOURS });
        const want = new Set(stored.map((n) => n.index));
        agree += scanned.slice(0, STORED_NEIGHBOURS).filter((n) => want.has(n.index)).length;
        total += stored.length;
      }
    }
    const ms = performance.now() - t0;
    return `decoder matrices of ${ctx.saes.length} SAEs loaded for scans on the ${kernel}; its top ${STORED_NEIGHBOURS} match the stored exact lists for ${agree}/${total} neighbours (${ms.toFixed(0)} ms)`;
  },
};
