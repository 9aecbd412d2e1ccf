// The demo's set-up steps, in order. Capabilities that build on ingested SAEs (lineage,
// offline labels, search embeddings, ...) append their step here; each must be idempotent.
import type { DemoStep } from "./demo.types.ts";
import { attributionGraphStep } from "./graph-step.ts";
import { ingestDemoFamily } from "./ingest-family.ts";
import { tokenPatternLabelsStep } from "./labels-step.ts";
import { lineageStep } from "./lineage-step.ts";
import { umapMapsStep } from "./maps-step.ts";
import { nearestStep } from "./nearest-step.ts";
import { conceptSearchStep } from "./search-step.ts";

export const DEMO_STEPS: readonly DemoStep[] = [ingestDemoFamily, lineageStep, umapMapsStep, nearestStep, tokenPatternLabelsStep, conceptSearchStep, attributionGraphStep];
