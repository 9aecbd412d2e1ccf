// The job module: resumable background jobs and their items (auto-interp runs them), and the
// durable post-ingest steps of each SAE (ingest records and runs them).
import type { Database } from "../../db/database.ts";
import type { RequestLimits } from "../../shared/limits.ts";
import type { Logger } from "../../logger.ts";
import { JobRepository } from "./job.repository.ts";
import { JobService } from "./job.service.ts";
import { StepRepository } from "./step.repository.ts";
import { StepService } from "./step.service.ts";

export { jobResolvers } from "./job.resolvers.ts";
export { JobService } from "./job.service.ts";
export { JobStatus } from "./job.service.ts";
export type { JobRecord, JobItemRecord } from "./job.service.ts";
export { StepService } from "./step.service.ts";
export type { PendingStep, StepContext, StepDefinition, StepEvent } from "./step.service.ts";

export function buildJobModule(db: Database, log: Logger, limits?: RequestLimits) {
  return { jobs: new JobService(new JobRepository(db), limits), steps: new StepService(new StepRepository(db), log) };
}
