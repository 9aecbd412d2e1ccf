// Rules for feature lists: what a valid name, description and note are, how full a list
// may get, and which errors the API reports (each names the argument and the problem;
// a refused call changes nothing).
import { randomBytes } from "node:crypto";
import { badInput, conflict, notFound } from "../../errors.ts";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import type { ListItemRecord, ListRecord, ListRepository } from "./list.repository.ts";

export type { ListItemRecord, ListRecord } from "./list.repository.ts";

export const LIST_NAME_MAX = 200;
export const LIST_TEXT_MAX = 2000;
/** Features one list may hold: a whole list is one page of FeatureList.items. */
export const LIST_CAPACITY = 1000;

/**
 * Trimmed text within bounds, without NUL (PostgreSQL text cannot hold it). Empty after
 * trimming is null where the field is optional.
 */
export function cleanText(value: string, arg: string, max: number, required: true): string;
export function cleanText(value: string | null | undefined, arg: string, max: number, required?: false): string | null;
export function cleanText(value: string | null | undefined, arg: string, max: number, required = false): string | null {
  if (value === null || value === undefined) {
    if (required) throw badInput(`${arg} is required`, { arg });
    return null;
  }
  if (value.includes("\u0000")) throw badInput(`${arg} must not contain NUL characters`, { arg });
  const t = value.trim();
  if (t.length === 0) {
    if (required) throw badInput(`${arg} must not be empty`, { arg });
    return null;
  }
  if (t.length > max) throw badInput(`${arg} must be at most ${max} characters, got ${t.length}`, { arg, max });
  return t;
}

/** FeatureList.items(first): 0..LIST_CAPACITY, so that the default returns a whole list whatever the server's page size. */
export function assertItemsFirst(first: number, arg = "first"): number {
  if (!Number.isInteger(first) || first < 0 || first > LIST_CAPACITY)
    throw badInput(`${arg} must be between 0 and ${LIST_CAPACITY}, got ${first}`, { arg, max: LIST_CAPACITY });
  return first;
}

export function assertFeatureIndex(index: number, arg = "index"): number {
  if (!Number.isInteger(index) || index < 0) throw badInput(`${arg} must be a non-negative integer, got ${index}`, { arg });
  return index;
}

// 12 URL-safe characters (72 random bits): short enough to share, never guessed by accident.
const newListId = () => randomBytes(9).toString("base64url");

export class ListService {
  constructor(private readonly repo: ListRepository) {}

  create(name: string, description: string | null | undefined): Promise<ListRecord> {
    const n = cleanText(name, "name", LIST_NAME_MAX, true);
    const d = cleanText(description, "description", LIST_TEXT_MAX);
    return this.repo.create(newListId(), n, d);
  }

  all(first: number): Promise<ListRecord[]> {
    return this.repo.all(first);
  }

  async byIds(ids: readonly string[]): Promise<Map<string, ListRecord>> {
    return new Map((await this.repo.byIds(ids)).map((l) => [l.id, l]));
  }

  async get(id: string): Promise<ListRecord | null> {
    return (await this.byIds([id])).get(id) ?? null;
  }

  async itemsOf(listIds: readonly string[], first: number): Promise<Map<string, ListItemRecord[]>> {
    const out = new Map<string, ListItemRecord[]>(listIds.map((id) => [id, []]));
    for (const i of await this.repo.items(listIds, first)) out.get(i.listId)?.push(i);
    return out;
  }

  async listsOf(keys: readonly FeatureKey[], first: number): Promise<Map<string, ListRecord[]>> {
    const out = new Map<string, ListRecord[]>(keys.map((k) => [featureKey(k), []]));
    for (const r of await this.repo.listsOfFeatures(keys, first)) {
      const { saeId, index, ...list } = r;
      out.get(featureKey({ saeId, index }))?.push(list);
    }
    return out;
  }

  async add(listId: string, key: FeatureKey, note: string | null | undefined): Promise<ListRecord> {
    assertFeatureIndex(key.index);
    const n = cleanText(note, "note", LIST_TEXT_MAX);
    const outcome = await this.repo.addItem(listId, key, n, LIST_CAPACITY);
    switch (outcome) {
      case "no-list":
        throw notFound(`no list with id ${listId}`);
      case "no-sae":
        throw notFound(`no SAE with id ${key.saeId}`);
      case "no-feature":
        throw notFound(`SAE ${key.saeId} has no feature ${key.index}`);
      case "full":
        throw conflict(`list ${listId} already holds ${LIST_CAPACITY} features, the most a list may hold`);
      case "added":
        return this.mustGet(listId);
    }
  }

  async remove(listId: string, key: FeatureKey): Promise<ListRecord> {
    assertFeatureIndex(key.index);
    if (!(await this.repo.removeItem(listId, key))) throw notFound(`no list with id ${listId}`);
    return this.mustGet(listId);
  }

  delete(id: string): Promise<boolean> {
    return this.repo.delete(id);
  }

  // Deleted between the write and this read: report it as gone rather than as a server error.
  private async mustGet(id: string): Promise<ListRecord> {
    const l = await this.get(id);
    if (!l) throw notFound(`no list with id ${id}`);
    return l;
  }
}
