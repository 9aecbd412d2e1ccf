// The demo's set-up steps, in order. Capabilities that build on ingested SAEs (lineage,
// offline labels, search embeddings, ...) append their step here; each must be idempotent.
import { tokenPatternLabelsStep } from "../autointerp/demo-step.ts";
import { lineageStep } from "../modules/geometry/lineage-demo-step.ts";
import { nearestStep } from "../modules/geometry/nearest-demo-step.ts";
import { umapMapsStep } from "../modules/geometry/umap-demo-step.ts";
import { conceptSearchStep } from "../modules/search/demo-step.ts";
import type { DemoStep } from "./demo.types.ts";
import { ingestDemoFamily } from "./ingest-family.ts";

export const DEMO_STEPS: readonly DemoStep[] = [ingestDemoFamily, lineageStep, umapMapsStep, nearestStep, tokenPatternLabelsStep, conceptSearchStep];
