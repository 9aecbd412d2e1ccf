// Seeds an SAE whose features each fire on one known word, in varied sentences, so
// the fake LLM's answers (it names the most highlighted word) can be checked exactly.
import type { App } from "../../src/app.ts";

export const WORDS = [
  "brigade", "violin", "glacier", "senator", "pepper", "comet", "harbor", "falcon", "quartz", "meadow",
  "lantern", "tundra", "saffron", "piston", "orchid", "canyon", "marble", "cobalt", "walrus", "zulu",
];

const FILLER = [
  "the old report said that", "in the morning a", "nobody expected the", "she wrote about the", "after the storm the",
  "they argued over a", "the museum displayed a", "we talked for hours about the", "a photograph of the", "children drew a",
  "the last chapter mentions a", "according to the guide the",
];
const TAIL = ["near the river", "for the second time", "in the small town", "before dinner", "with great care", "last year"];

export interface SeededExample {
  tokens: string[];
  values: number[];
  kind: "top" | "quantile";
}

/** Examples for a feature firing on `word`: 8 top and 3 quantile contexts, deterministic. */
export function examplesFor(featureIndex: number, word: string, topN = 8): SeededExample[] {
  const out: SeededExample[] = [];
  for (let j = 0; j < topN + 3; j++) {
    const pre = FILLER[(featureIndex * 7 + j) % FILLER.length].split(" ");
    const post = TAIL[(featureIndex + j) % TAIL.length].split(" ");
    const tokens = [...pre, word, ...post].map((w, i) => (i === 0 ? w : ` ${w}`));
    const peak = j < topN ? 8 - j * 0.3 : 2 - (j - topN) * 0.4;
    const values = tokens.map((t) => (t.trim() === word ? peak : 0));
    // A weak echo on the next token, as real features have.
    values[pre.length + 1] = peak * 0.1;
    out.push({ tokens, values, kind: j < topN ? "top" : "quantile" });
  }
  return out;
}

export async function seedWordSae(
  app: App,
  opts: { saeId?: string; words?: readonly string[]; dead?: number } = {},
): Promise<{ saeId: string; words: string[] }> {
  const saeId = opts.saeId ?? "test/words/0";
  const words = [...(opts.words ?? WORDS.slice(0, 12))];
  const dead = opts.dead ?? 0;
  const p = app.db.prisma;
  await p.$executeRaw`INSERT INTO model (id, name, d_model) VALUES ('test', 'test', 8) ON CONFLICT DO NOTHING`;
  await p.$executeRaw`INSERT INTO sae (id, name, model_id, architecture, d_in, d_sae, status)
    VALUES (${saeId}, ${saeId}, 'test', 'standard', 8, ${words.length + dead}, 'ready')`;
  await p.$executeRaw`INSERT INTO feature (sae_id, idx, density, max_activation)
    SELECT ${saeId}, i, CASE WHEN i < ${words.length} THEN 0.001 ELSE 0 END, 8 FROM generate_series(0, ${words.length + dead - 1}) AS i`;
  const f: number[] = [], o: number[] = [], toks: string[] = [], vals: string[] = [], mx: number[] = [], mi: number[] = [], kind: string[] = [], text: string[] = [];
  words.forEach((w, i) => {
    examplesFor(i, w).forEach((e, j) => {
      f.push(i);
      o.push(j);
      toks.push(JSON.stringify(e.tokens));
      vals.push(JSON.stringify(e.values));
      const m = Math.max(...e.values);
      mx.push(m);
      mi.push(e.values.indexOf(m));
      kind.push(e.kind);
      text.push(e.tokens.join(""));
    });
  });
  await p.$executeRaw`
    INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, "values", max_value, max_token_index, kind, text)
    SELECT ${saeId}, t.f, t.o, ARRAY(SELECT x FROM jsonb_array_elements_text(t.toks::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n),
           ARRAY(SELECT x::real FROM jsonb_array_elements_text(t.vals::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n), t.mx, t.mi, t.kind, t.text
    FROM unnest(${f}::int[], ${o}::int[], ${toks}::text[], ${vals}::text[], ${mx}::real[], ${mi}::int[], ${kind}::text[], ${text}::text[])
      AS t(f, o, toks, vals, mx, mi, kind, text)`;
  return { saeId, words };
}
