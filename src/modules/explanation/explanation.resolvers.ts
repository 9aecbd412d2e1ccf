// GraphQL resolvers for labels: Feature.label / explanations, Explanation, Mutation.addExplanation and
// SaeStats.labeledFraction. Everything goes through per-request loaders.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";

export const explanationResolvers: Resolvers = {
  Mutation: {
    // The API-key check for mutations happens before any resolver runs (src/graphql/auth.ts).
    addExplanation: (_p, args, ctx) => ctx.services.explanation.addHuman({ saeId: args.saeId, index: args.index }, args.text),
  },
  Feature: {
    label: async (f, _a, ctx) => (await ctx.loaders.explanation.best.load(f))?.text ?? null,
    explanations: (f, _a, ctx) => ctx.loaders.explanation.all.load(f),
  },
  Explanation: {
    id: (e) => e.id,
    text: (e) => e.text,
    method: (e) => e.method,
    explainerModel: (e) => e.explainerModel || null,
    promptVersion: (e) => e.promptVersion || null,
    inputTokens: (e) => e.inputTokens,
    outputTokens: (e) => e.outputTokens,
    costUsd: (e) => e.costUsd,
    jobId: (e) => e.jobId,
    quality: (e) => e.quality,
    createdAt: (e) => e.createdAt.toISOString(),
    feature: (e) => ({ saeId: e.saeId, index: e.featureIndex }),
    scores: async (e, _a, ctx) =>
      (await ctx.loaders.explanation.scores.load(e.id)).map((s) => ({ kind: s.kind, metric: s.metric, value: s.value, scorerModel: s.scorerModel || null })),
  },
  SaeStats: {
    labeledFraction: (s, _a, ctx) => ctx.loaders.explanation.labeledFraction.load(s.saeId),
  },
};
