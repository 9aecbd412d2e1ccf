// The embed job's work for a batch of features: one embeddings request for all their
// labels that lack a vector from this model; vectors stored unit-normalised with their dimension.
import { normalize } from "../../../db/vector.ts";
import type { JobRecord } from "../../job/job.service.ts";
import type { JobTask } from "../pipeline.ts";
import { estimateCost } from "../pricing.ts";
import { noSpend, type TaskDeps, upstreamFailure } from "./common.ts";

export interface EmbedParams {
  key: string;
  model: string;
  embedder: string;
}

export function embedTask(deps: TaskDeps, job: JobRecord): JobTask {
  const params = job.params as unknown as EmbedParams;
  const saeId = job.saeId!;
  return {
    batchSize: 64,
    async prepare(indices) {
      const labels = (await deps.explanations.unembedded(saeId, indices, params.embedder)).filter((l) => l.text.trim() !== "");
      const done = () => indices.map((featureIndex) => ({ featureIndex, status: "DONE" as const, spend: noSpend() }));
      if (labels.length === 0) return { estimateUsd: 0, execute: async () => done() };
      const chars = labels.reduce((s, l) => s + l.text.length, 0);
      return {
        estimateUsd: estimateCost(params.model, { inputTokens: Math.ceil(chars / 3), outputTokens: 0 }),
        async execute(signal) {
          let res;
          try {
            res = await deps.llm.embed(params.model, labels.map((l) => l.text), { signal });
          } catch (e) {
            const error = upstreamFailure(e, signal);
            return indices.map((featureIndex) => ({ featureIndex, status: "FAILED" as const, error, spend: noSpend() }));
          }
          await deps.explanations.insertEmbeddings(
            params.embedder,
            res.dim,
            labels.map((l, i) => ({ id: l.id, vector: normalize(res.vectors[i]) })),
          );
          // The request's spend is booked on the batch's first item.
          const cost = estimateCost(params.model, res.usage);
          return indices.map((featureIndex, i) => ({
            featureIndex,
            status: "DONE" as const,
            spend: i === 0 ? { ...res.usage, costUsd: cost } : noSpend(),
          }));
        },
      };
    },
  };
}
