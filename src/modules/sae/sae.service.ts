// Rules for reading models, families and SAEs.
import { notFound } from "../../errors.ts";
import type { FamilyRecord, ModelRecord, SaeRecord, SaeRepository } from "./sae.repository.ts";

export type { FamilyRecord, ModelRecord, SaeRecord } from "./sae.repository.ts";

export class SaeService {
  constructor(private readonly repo: SaeRepository) {}

  models(): Promise<ModelRecord[]> {
    return this.repo.listModels();
  }
  families(): Promise<FamilyRecord[]> {
    return this.repo.listFamilies();
  }
  saes(filter: { familyId?: string | null; modelId?: string | null }): Promise<SaeRecord[]> {
    return this.repo.listSaes(filter);
  }
  async sae(id: string): Promise<SaeRecord | null> {
    return (await this.repo.saesByIds([id]))[0] ?? null;
  }
  async requireSae(id: string): Promise<SaeRecord> {
    const sae = await this.sae(id);
    if (!sae) throw notFound(`SAE ${JSON.stringify(id)} not found`);
    return sae;
  }
  modelsByIds(ids: readonly string[]) {
    return this.repo.modelsByIds(ids);
  }
  familiesByIds(ids: readonly string[]) {
    return this.repo.familiesByIds(ids);
  }
  saesByIds(ids: readonly string[]) {
    return this.repo.saesByIds(ids);
  }
  /** Ready SAEs and SAEs being deleted (status 'deleting'): for parents a request already holds. */
  heldSaesByIds(ids: readonly string[]) {
    return this.repo.saesByIds(ids, { deleting: true });
  }
  featureCounts(ids: readonly string[]) {
    return this.repo.featureCounts(ids);
  }
}
