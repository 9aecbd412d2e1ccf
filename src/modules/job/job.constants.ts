// A job's states, apart from job.repository.ts so that the CLI can list them in its help
// without loading the database client.
export const JobStatus = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JobStatus)[number];
