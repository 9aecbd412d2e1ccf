// GraphQL resolvers for jobs: reading them, and the mutations that start (and spend
// money on) auto-interpretation. Mutations check the caller first, before anything else.
import type { ScoreKind } from "../../autointerp/score.ts";
import { AppError, ErrorCode } from "../../errors.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";

function requireCaller(ctx: GraphQLContext) {
  if (!ctx.caller.authenticated)
    throw new AppError(ErrorCode.UNAUTHENTICATED, "this mutation needs an API key: send Authorization: Bearer <key>");
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const jobResolvers: Resolvers = {
  Query: {
    job: (_p, { id }, ctx) => ctx.services.jobs.get(id),
    jobs: (_p, args, ctx) =>
      ctx.services.jobs.list({ status: args.status ?? null, saeId: args.saeId ?? null, kind: args.kind ?? null }, args.first ?? 50),
  },
  Mutation: {
    explainFeatures: async (_p, args, ctx) => {
      requireCaller(ctx);
      const job = await ctx.services.autointerp.create("explain", args.saeId, {
        indices: args.indices,
        limit: args.limit,
        maxCostUsd: args.maxCost,
        batch: args.batch ?? false,
      });
      ctx.services.autointerp.start(job.id);
      return job;
    },
    scoreExplanations: async (_p, args, ctx) => {
      requireCaller(ctx);
      const kinds = args.kinds?.map((k) => k.toLowerCase() as ScoreKind) ?? null;
      const job = await ctx.services.autointerp.create("score", args.saeId, { indices: args.indices, limit: args.limit, maxCostUsd: args.maxCost, kinds });
      ctx.services.autointerp.start(job.id);
      return job;
    },
    embedExplanations: async (_p, args, ctx) => {
      requireCaller(ctx);
      const job = await ctx.services.autointerp.create("embed", args.saeId, { indices: args.indices, limit: args.limit, maxCostUsd: args.maxCost });
      ctx.services.autointerp.start(job.id);
      return job;
    },
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
