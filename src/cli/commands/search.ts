// `monoscope search "<text>"`: concept search from the command line. Results on
// stdout (one line per hit, or JSON with --json); --reindex rebuilds search documents
// and offline label embeddings first.
import { featureKey } from "../../shared/feature-key.ts";
import { type Command, Option } from "commander";
import { badInput } from "../../errors.ts";
import type { ConceptHit, SearchMode } from "../../modules/search/search.service.ts";
import { searchOnServer } from "../remote/http-verbs.ts";
import { intOption, servingApi, withApp } from "../runtime.ts";

interface SearchOptions {
  mode: SearchMode;
  k: number;
  sae?: string[];
  family?: string;
  model?: string;
  minScore?: number;
  labelMethod?: string;
  embedder?: string;
  json?: boolean;
  reindex?: boolean;
}

function numberOption(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw badInput(`${flag} must be a number, got ${JSON.stringify(value)}`);
    return n;
  };
}

const collect = (value: string, prev: string[] = []) => [...prev, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

export function formatHits(hits: readonly ConceptHit[]): string {
  if (hits.length === 0) return "no matching features\n";
  const idWidth = Math.max(...hits.map((h) => featureKey(h).length));
  return hits
    .map((h, i) => {
      const rank = String(i + 1).padStart(3);
      const text = (h.matchedText ?? "").replace(/\s+/g, " ").slice(0, 160);
      return `${rank}  ${h.score.toFixed(4)}  ${featureKey(h).padEnd(idWidth)}  ${text}`;
    })
    .join("\n")
    .concat("\n");
}

export function registerSearch(program: Command) {
  program
    .command("search")
    .description("concept search over feature labels and activating text (HYBRID = meaning + words)")
    .argument("[text]", "what to look for, e.g. \"american presidents\"")
    .addOption(new Option("--mode <mode>", "HYBRID, SEMANTIC or LEXICAL").choices(["HYBRID", "SEMANTIC", "LEXICAL"]).default("HYBRID"))
    .option("--k <n>", "how many features", intOption("--k", 1), 20)
    .option("--sae <ids>", "only these SAEs (comma-separated or repeated)", collect)
    .option("--family <id>", "only SAEs of this family")
    .option("--model <id>", "only SAEs of this model")
    .option("--min-score <x>", "only labels scored at least x (balanced accuracy, else simulation correlation)", numberOption("--min-score"))
    .option("--label-method <method>", "only labels of this method, e.g. token-pattern/v1, llm-explain/v1, imported")
    .option("--embedder <id>", "embedder for SEMANTIC/HYBRID (default: the endpoint's when its vectors exist, else glove-wordnet/v1)")
    .option("--json", "print the hits as JSON")
    .option("--reindex", "first rebuild search documents and offline label embeddings of every SAE")
    .action(async (text: string | undefined, opts: SearchOptions, cmd: Command) => {
      if (!text && !opts.reindex) throw badInput('give the text to search for, e.g. monoscope search "american presidents"');
      const request = {
        query: text ?? "",
        k: opts.k,
        mode: opts.mode,
        saeIds: opts.sae ?? null,
        familyId: opts.family ?? null,
        modelId: opts.model ?? null,
        minScore: opts.minScore ?? null,
        labelMethod: opts.labelMethod ?? null,
      };
      const print = (hits: readonly ConceptHit[]) => process.stdout.write(opts.json ? JSON.stringify(hits, null, 2) + "\n" : formatHits(hits));
      // A plain search is a read: a server holding the embedded data dir answers it over /graphql
      // (which has no --embedder). Reindexing writes, so it runs in that server through withApp.
      const api = !opts.reindex && !opts.embedder ? await servingApi(cmd) : null;
      if (api) return void print(await searchOnServer(api, request));
      await withApp(cmd, async (app) => {
        if (opts.reindex) await app.services.search.reindexAll((line) => app.log.info(line));
        if (!text) return;
        print(await app.services.search.search({ ...request, embedder: opts.embedder ?? null }));
      });
    });
}
