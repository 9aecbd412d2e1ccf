// The job module: resumable background jobs and their items (auto-interp runs them).
import type { Database } from "../../db/database.ts";
import type { RequestLimits } from "../limits.ts";
import { JobRepository } from "./job.repository.ts";
import { JobService } from "./job.service.ts";

export { jobResolvers } from "./job.resolvers.ts";
export { JobService } from "./job.service.ts";
export { JobStatus } from "./job.service.ts";
export type { JobRecord, JobItemRecord } from "./job.service.ts";

export function buildJobModule(db: Database, limits?: RequestLimits) {
  return { jobs: new JobService(new JobRepository(db), limits) };
}
