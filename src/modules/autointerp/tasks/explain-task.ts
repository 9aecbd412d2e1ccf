// The explain job's work for one feature: skip it if a label with this key exists
// (never pay twice), else prompt, parse, store.
import type { JobRecord } from "../../job/job.service.ts";
import { splitExamples } from "../examples.ts";
import { explainFeature } from "../explain.ts";
import type { JobTask } from "../pipeline.ts";
import { estimateCostBefore } from "../pricing.ts";
import { explainTemplate, LLM_EXPLAIN_METHOD } from "../prompts/explain.ts";
import { noSpend, type TaskDeps, toExample, upstreamFailure } from "./common.ts";

export interface ExplainParams {
  key: string;
  model: string;
  promptVersion: string;
}

export const explainKey = (model: string, promptVersion: string) => `${LLM_EXPLAIN_METHOD}|${promptVersion}|${model}`;

export function explainTask(deps: TaskDeps, job: JobRecord): JobTask {
  const params = job.params as unknown as ExplainParams;
  const template = explainTemplate(params.promptVersion);
  const saeId = job.saeId!;
  return {
    batchSize: 1,
    async prepare([idx]) {
      const existing = await deps.explanations.find(saeId, idx, LLM_EXPLAIN_METHOD, params.promptVersion, params.model);
      if (existing) return { estimateUsd: 0, execute: async () => [{ featureIndex: idx, status: "DONE", spend: noSpend() }] };
      const { train } = splitExamples((await deps.examples.examplesOf(saeId, idx)).map(toExample));
      if (train.length === 0)
        return { estimateUsd: 0, execute: async () => [{ featureIndex: idx, status: "FAILED", error: "no activating examples", spend: noSpend() }] };
      const chars = template.build(train).reduce((s, m) => s + m.content.length, 0);
      return {
        estimateUsd: estimateCostBefore(params.model, chars, template.maxOutputTokens),
        async execute(signal) {
          let out;
          try {
            out = await explainFeature(deps.llm, params.model, template, train, signal);
          } catch (e) {
            return [{ featureIndex: idx, status: "FAILED", error: upstreamFailure(e, signal), spend: noSpend() }];
          }
          const spend = { ...out.usage, costUsd: out.costUsd };
          if (!out.ok) return [{ featureIndex: idx, status: "FAILED", error: out.error, raw: out.raw, spend }];
          await deps.explanations.insert({
            saeId,
            featureIndex: idx,
            text: out.text,
            method: LLM_EXPLAIN_METHOD,
            promptVersion: params.promptVersion,
            explainerModel: params.model,
            inputTokens: out.usage.inputTokens,
            outputTokens: out.usage.outputTokens,
            costUsd: out.costUsd,
            jobId: job.id,
          });
          return [{ featureIndex: idx, status: "DONE", spend }];
        },
      };
    },
  };
}
