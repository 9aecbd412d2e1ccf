// Text through a model and an SAE: each token's activation from the SAE's source
// (source-registry.ts), then the SAE's stored encoder, the same code as encodeVector
// (EncodeService.encodeMany). A zero row (a token the source has no vector for) has no features.
import { badInput } from "../../errors.ts";
import { checkK, type RequestLimits } from "../../shared/limits.ts";
import type { EncodableSae, EncodeService, FeatureActivation } from "../encode/encode.service.ts";
import type { ActivationSource, HookRef, TokenActivations } from "./activation-source.ts";
import type { SourceRegistry } from "./source-registry.ts";
import { checkTextLength } from "./text-limits.ts";
import type { FeatureSourceRow, TextRepository } from "./text.repository.ts";

/** An SAE that text can run through: encodable, with the hook it reads. */
interface TextSae {
  sae: EncodableSae;
  hook: HookRef;
}

export interface TokenFeatures {
  token: string;
  features: FeatureActivation[];
}

export interface FeatureTextHit {
  saeId: string;
  index: number;
  maxActivation: number;
  tokenIndex: number;
}

/** searchByText reads at most this many SAEs in one request. */
export const MAX_SEARCH_SAES = 16;

export class TextService {
  constructor(
    private readonly repo: TextRepository,
    private readonly encode: EncodeService,
    private readonly registry: SourceRegistry,
    private readonly limits: Pick<RequestLimits, "maxK">,
  ) {}

  /** Each token of text with its k strongest features in the SAE. */
  async activateText(saeId: string, text: string, k: number): Promise<TokenFeatures[]> {
    checkK(this.limits, k);
    checkTextLength(text, this.registry.limits);
    const target = await this.target(saeId);
    const acts = await this.run(target, text);
    const features = await this.encodeTokens(target.sae, acts, k);
    return acts.tokens.map((token, i) => ({ token, features: features[i]! }));
  }

  /** One feature's activation on each token of text (0 where it does not fire). */
  async activationsOnText(saeId: string, index: number, text: string): Promise<number[]> {
    checkTextLength(text, this.registry.limits);
    const target = await this.target(saeId);
    const acts = await this.run(target, text);
    const { rows, positions } = nonZeroRows(acts);
    const out = new Array<number>(acts.tokens.length).fill(0);
    if (positions.length === 0) return out;
    const values = await this.encode.featureValues(target.sae, index, rows, acts.dIn);
    positions.forEach((p, i) => (out[p] = values[i]!));
    return out;
  }

  /** The k features most active anywhere in text, over the SAEs, with the token where each peaks. */
  async searchByText(text: string, saeIds: readonly string[], k: number): Promise<FeatureTextHit[]> {
    checkK(this.limits, k);
    checkTextLength(text, this.registry.limits);
    const ids = [...new Set(saeIds)];
    if (ids.length === 0) throw badInput("saeIds must name at least one SAE", { arg: "saeIds" });
    if (ids.length > MAX_SEARCH_SAES) throw badInput(`saeIds may name at most ${MAX_SEARCH_SAES} SAEs, got ${ids.length}`, { arg: "saeIds", max: MAX_SEARCH_SAES });
    const hits: FeatureTextHit[] = [];
    const targets: TextSae[] = [];
    for (const saeId of ids) targets.push(await this.target(saeId));
    const runs = await this.runAll(targets, text);
    for (const target of targets) {
      const saeId = target.sae.id;
      const acts = runs.get(hookKey(target.hook))!;
      // A feature among the k strongest anywhere is among the k strongest at its own peak token,
      // so each token's top k is enough for an exact answer.
      const perToken = await this.encodeTokens(target.sae, acts, k);
      const best = new Map<number, FeatureTextHit>();
      perToken.forEach((features, tokenIndex) => {
        for (const f of features) {
          const seen = best.get(f.index);
          if (!seen || f.activation > seen.maxActivation) best.set(f.index, { saeId, index: f.index, maxActivation: f.activation, tokenIndex });
        }
      });
      hits.push(...best.values());
    }
    hits.sort((a, b) => b.maxActivation - a.maxActivation || (a.saeId < b.saeId ? -1 : a.saeId > b.saeId ? 1 : 0) || a.index - b.index);
    return hits.slice(0, k);
  }

  /** A feature's examples summarised per source, the `first` strongest sources. */
  sources(saeId: string, index: number, first: number): Promise<FeatureSourceRow[]> {
    return this.repo.featureSources(saeId, index, first);
  }

  /** The SAE's hook, and the tokens of text with their activations there. */
  async activations(saeId: string, text: string): Promise<{ hook: HookRef; acts: TokenActivations }> {
    const target = await this.target(saeId);
    return { hook: target.hook, acts: await this.run(target, text) };
  }

  /**
   * The SAE, checked by the encoder (NOT_FOUND, an architecture it cannot encode, no stored
   * encoder) in the same lookup that says where it reads; BAD_USER_INPUT without a hook name.
   */
  private async target(saeId: string): Promise<TextSae> {
    const sae = await this.encode.encodable(saeId);
    if (sae.hookName === null) {
      throw badInput(`SAE ${JSON.stringify(saeId)} was imported without a hook_name, so no model can say where it reads; cannot run text through it`, { saeId });
    }
    return { sae, hook: { modelName: sae.modelId, hookName: sae.hookName, dIn: sae.dIn } };
  }

  /**
   * The text at every hook the SAEs read, by hookKey: SAEs at the same hook share one run, and
   * SAEs of one model at different hooks share one forward pass where the source has activateHooks.
   */
  private async runAll(targets: readonly TextSae[], text: string): Promise<Map<string, TokenActivations>> {
    const bySource = new Map<ActivationSource, TextSae[]>();
    for (const t of targets) {
      const source = this.registry.sourceFor(t.hook, t.sae.id);
      const group = bySource.get(source);
      if (!group) bySource.set(source, [t]);
      else if (!group.some((g) => hookKey(g.hook) === hookKey(t.hook))) group.push(t);
    }
    const runs = new Map<string, TokenActivations>();
    for (const [source, group] of bySource) {
      if (group.length > 1 && source.activateHooks) {
        const [perHook] = await source.activateHooks([text], group.map((g) => g.hook));
        group.forEach((g, h) => runs.set(hookKey(g.hook), checked(source, g, perHook![h]!)));
      } else {
        for (const g of group) runs.set(hookKey(g.hook), checked(source, g, await source.activate(text, g.hook)));
      }
    }
    return runs;
  }

  private async run({ sae, hook }: TextSae, text: string): Promise<TokenActivations> {
    const source = this.registry.sourceFor(hook, sae.id);
    return checked(source, { sae, hook }, await source.activate(text, hook));
  }

  private async encodeTokens(sae: EncodableSae, acts: TokenActivations, k: number): Promise<FeatureActivation[][]> {
    const out: FeatureActivation[][] = acts.tokens.map(() => []);
    const { rows, positions } = nonZeroRows(acts);
    if (positions.length === 0) return out;
    const encoded = await this.encode.encodeMany(sae, rows, acts.dIn, k);
    positions.forEach((p, i) => (out[p] = encoded[i]!));
    return out;
  }
}

const hookKey = (h: HookRef) => `${h.modelName}\u0000${h.hookName}\u0000${h.dIn}`;

function checked(source: ActivationSource, { sae, hook }: TextSae, acts: TokenActivations): TokenActivations {
  if (acts.dIn !== hook.dIn) throw new Error(`${source.name} returned ${acts.dIn}-d activations for SAE ${sae.id} with d_in ${hook.dIn}`);
  return acts;
}

/** The rows that are not all zero, packed, with their token positions. */
function nonZeroRows(acts: TokenActivations): { rows: Float32Array; positions: number[] } {
  const { dIn, vectors } = acts;
  const positions: number[] = [];
  for (let t = 0; t < acts.tokens.length; t++) {
    const row = vectors.subarray(t * dIn, (t + 1) * dIn);
    if (row.some((v) => v !== 0)) positions.push(t);
  }
  const rows = new Float32Array(positions.length * dIn);
  positions.forEach((p, i) => rows.set(vectors.subarray(p * dIn, (p + 1) * dIn), i * dIn));
  return { rows, positions };
}
