// GraphQL resolvers for jobs: reading and cancelling them (autointerp's resolvers start them).
// Mutations check the caller first, before anything else.
import { requireCaller } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const jobResolvers: Resolvers = {
  Query: {
    job: (_p, { id }, ctx) => ctx.services.jobs.get(id),
    jobs: (_p, args, ctx) =>
      ctx.services.jobs.list({ status: args.status ?? null, saeId: args.saeId ?? null, kind: args.kind ?? null }, args.first ?? 50),
  },
  Mutation: {
    cancelJob: async (_p, { id }, ctx) => {
      requireCaller(ctx);
      return ctx.services.jobs.cancel(id);
    },
  },
  Job: {
    id: (j) => j.id,
    kind: (j) => j.kind,
    status: (j) => j.status,
    total: (j) => j.total,
    done: (j) => j.done,
    failed: (j) => j.failed,
    error: (j) => j.error,
    saeId: (j) => j.saeId,
    sae: (j, _a, ctx) => (j.saeId ? ctx.loaders.sae.sae.load(j.saeId) : null),
    model: (j) => (typeof j.params.model === "string" ? j.params.model : null),
    inputTokens: (j) => j.inputTokens,
    outputTokens: (j) => j.outputTokens,
    costUsd: (j) => j.costUsd,
    maxCost: (j) => j.maxCostUsd,
    cancelRequested: (j) => j.cancelRequested,
    createdAt: (j) => j.createdAt.toISOString(),
    startedAt: (j) => iso(j.startedAt),
    finishedAt: (j) => iso(j.finishedAt),
    items: (j, args, ctx) => ctx.services.jobs.items(j.id, args.status ?? null, args.first ?? 100),
  },
  JobItem: {
    featureIndex: (i) => i.featureIndex,
    feature: async (i, _a, ctx) => {
      const job = await ctx.services.jobs.get(i.jobId);
      return job?.saeId ? { saeId: job.saeId, index: i.featureIndex } : null;
    },
    status: (i) => i.status as "PENDING" | "RUNNING" | "DONE" | "FAILED",
    attempts: (i) => i.attempts,
    error: (i) => i.error,
    rawResponse: (i) => i.rawResponse,
  },
};
