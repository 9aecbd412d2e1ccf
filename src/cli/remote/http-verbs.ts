// Verbs that read (and jobs cancel) while a server holds the embedded data dir: sent to its
// /graphql as any other client would, with the API key from this environment when one is set.
import type { LockHolder, ServedBy } from "../../db/lock.ts";
import { AppError, ErrorCode, notFound } from "../../errors.ts";
import type { ExecutionOutput } from "../../graphql/execute.ts";
import type { JobRecord, JobStatus } from "../../modules/job/index.ts";
import type { ConceptHit, SearchMode } from "../../modules/search/search.service.ts";

export interface GraphQLServer {
  holder: LockHolder & { server: ServedBy };
  apiKey: string | null;
}

/** The server's address as a client reaches it: a wildcard bind answers on loopback. */
function endpoint(url: string): string {
  const u = new URL(url);
  if (u.hostname === "0.0.0.0") u.hostname = "127.0.0.1";
  else if (u.hostname === "[::]") u.hostname = "[::1]";
  return `${u.origin}/graphql`;
}

export async function graphqlOnServer(s: GraphQLServer, query: string, variables?: Record<string, unknown>): Promise<ExecutionOutput> {
  const url = endpoint(s.holder.server.url);
  const where = `the monoscope server that holds the data dir (process ${s.holder.pid}, ${s.holder.server.url})`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new AppError(ErrorCode.DATABASE_UNAVAILABLE, `${where} does not answer on ${url} (${cause}); if it is shutting down, run the command again once it has stopped`);
  }
  const text = await res.text();
  let body: ExecutionOutput;
  try {
    body = JSON.parse(text) as ExecutionOutput;
  } catch {
    throw new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, `${where} answered HTTP ${res.status} without a GraphQL result`);
  }
  if (!body || typeof body !== "object" || (!("data" in body) && !("errors" in body))) {
    throw new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, `${where} answered HTTP ${res.status} without a GraphQL result`);
  }
  return body.errors ? { errors: body.errors, data: body.data } : { data: body.data };
}

/** A GraphQL error answer as the one-line error the in-process verb would print. */
function firstError(r: ExecutionOutput): AppError {
  const e = (r.errors?.[0] ?? {}) as { message?: string; extensions?: { code?: string } };
  const code = Object.values(ErrorCode).includes(e.extensions?.code as ErrorCode) ? (e.extensions!.code as ErrorCode) : ErrorCode.INTERNAL_SERVER_ERROR;
  return new AppError(code, e.message ?? "the server answered with an error");
}

export interface SearchRequest {
  query: string;
  k: number;
  mode: SearchMode;
  saeIds: string[] | null;
  familyId: string | null;
  modelId: string | null;
  minScore: number | null;
  labelMethod: string | null;
}

const SEARCH = `query MonoscopeCliSearch($query: String!, $k: Int, $mode: SearchMode, $saeIds: [ID!], $familyId: ID, $modelId: ID, $minScore: Float, $labelMethod: String) {
  searchConcepts(query: $query, k: $k, mode: $mode, saeIds: $saeIds, familyId: $familyId, modelId: $modelId, minScore: $minScore, labelMethod: $labelMethod) {
    score matchedText feature { index sae { id } }
  }
}`;

export async function searchOnServer(s: GraphQLServer, req: SearchRequest): Promise<ConceptHit[]> {
  const r = await graphqlOnServer(s, SEARCH, { ...req });
  if (r.errors?.length) throw firstError(r);
  const hits = (r.data as { searchConcepts: { score: number; matchedText: string | null; feature: { index: number; sae: { id: string } } }[] }).searchConcepts;
  return hits.map((h) => ({ saeId: h.feature.sae.id, index: h.feature.index, score: h.score, matchedText: h.matchedText }));
}

/** What `jobs list` and `jobs show` print of a job. */
export type JobView = Pick<
  JobRecord,
  "id" | "kind" | "status" | "saeId" | "total" | "done" | "failed" | "inputTokens" | "outputTokens" | "costUsd" | "maxCostUsd" | "error" | "cancelRequested" | "createdAt"
>;

const JOB_FIELDS = "id kind status saeId total done failed inputTokens outputTokens costUsd maxCost error cancelRequested createdAt";
interface JobFields extends Omit<JobView, "maxCostUsd" | "createdAt"> {
  maxCost: number | null;
  createdAt: string;
}
const jobView = ({ maxCost, createdAt, ...j }: JobFields): JobView => ({ ...j, maxCostUsd: maxCost, createdAt: new Date(createdAt) });

export async function jobsOnServer(s: GraphQLServer, filter: { status?: JobStatus; saeId?: string }, first: number): Promise<JobView[]> {
  const r = await graphqlOnServer(
    s,
    `query MonoscopeCliJobs($status: JobStatus, $saeId: ID, $first: Int) { jobs(status: $status, saeId: $saeId, first: $first) { ${JOB_FIELDS} } }`,
    { status: filter.status ?? null, saeId: filter.saeId ?? null, first },
  );
  if (r.errors?.length) throw firstError(r);
  return (r.data as { jobs: JobFields[] }).jobs.map(jobView);
}

export interface FailedItem {
  featureIndex: number;
  error: string | null;
  rawResponse: string | null;
}

export async function jobOnServer(s: GraphQLServer, id: string): Promise<{ job: JobView; failed: FailedItem[] }> {
  const r = await graphqlOnServer(
    s,
    `query MonoscopeCliJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} items(status: FAILED, first: 1000) { featureIndex error rawResponse } } }`,
    { id },
  );
  if (r.errors?.length) throw firstError(r);
  const job = (r.data as { job: (JobFields & { items: FailedItem[] }) | null }).job;
  if (!job) throw notFound(`job ${JSON.stringify(id)} not found`);
  const { items, ...fields } = job;
  return { job: jobView(fields), failed: items };
}

/** Through the API, so that it need not wait behind the command it may be meant to stop (the socket runs one at a time). */
export async function cancelJobOnServer(s: GraphQLServer, id: string): Promise<JobView> {
  const r = await graphqlOnServer(s, `mutation MonoscopeCliCancelJob($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`, { id });
  if (r.errors?.length) throw firstError(r);
  return jobView((r.data as { cancelJob: JobFields }).cancelJob);
}
