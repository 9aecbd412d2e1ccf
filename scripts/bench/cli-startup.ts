// CLI start-up as a user feels it: wall time of `monoscope --help` and of
// `monoscope query '{ saes { id } }'` on a demo data dir (SAE 512 of the demo family), each a fresh
// `node bin/monoscope.js` process. With --before <commit> the same commands also run from a copy
// of that commit (a git worktree sharing node_modules), alternating run by run so both trees see
// the same machine load. Prints one JSON document (scripts/bench/lib.ts); logs on stderr.
//   node bin/run-ts.js scripts/bench/cli-startup.ts [--runs N] [--before <commit>] [--data-dir <dir>]
// --data-dir reuses a demo data dir for every tree (made once by
// `node bin/monoscope.js --data-dir <dir> demo --sizes 512 --setup-only`); without it each tree
// makes its own in a temporary directory, with its own code and migrations.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, getPriority, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BenchRow, benchMode, compare, emit, intArg, log, percentile, round } from "./lib.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const argv = process.argv.slice(2);
const opt = (name: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const runs = intArg("runs", benchMode() === "full" ? 30 : 10);
const before = opt("before");
const sharedDataDir = opt("data-dir");

const QUERY = "{ saes { id } }";
const TARGETS = { help: 0.3, query: 1.5 };

interface Tree {
  label: string;
  root: string;
  dataDir: string;
}

const scratch = mkdtempSync(join(tmpdir(), "monoscope-cli-bench-"));
const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
// CPU seconds of the whole process (all threads), printed at exit: on a shared machine wall time
// follows the load, CPU time much less.
const cpuHook = join(scratch, "cpu-at-exit.mjs");
writeFileSync(cpuHook, 'process.on("exit", () => { const u = process.cpuUsage(); process.stderr.write(`\\nCPU_US ${u.user + u.system}\\n`); });\n');

function run(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...env, ...extraEnv } });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function must(what: string, r: { ok: boolean; out: string }): void {
  if (!r.ok) throw new Error(`${what} failed:\n${r.out.slice(-2000)}`);
}

/** A checkout of `commit` beside this one, sharing node_modules, set up as `npm ci` would. */
function checkoutBefore(commit: string): string {
  const dir = join(scratch, "before");
  must("git worktree add", run("git", ["worktree", "add", "--detach", dir, commit], ROOT));
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
  must("postinstall of the before tree", run(process.execPath, ["scripts/postinstall.mjs"], dir));
  return dir;
}

function demoDataDir(root: string, label: string): string {
  if (sharedDataDir) return resolve(sharedDataDir);
  const dir = join(scratch, `data-${label}`);
  log(`${label}: setting up the demo SAE 512 in ${dir}`);
  must(`demo setup (${label})`, run(process.execPath, ["bin/monoscope.js", "--data-dir", dir, "demo", "--sizes", "512", "--setup-only"], root));
  return dir;
}

/** Wall and CPU seconds of one fresh CLI process, or throws with its output when it fails. */
function timeCli(tree: Tree, args: string[]): { wall: number; cpu: number } {
  const t = performance.now();
  const r = run(process.execPath, ["--import", cpuHook, join(tree.root, "bin", "monoscope.js"), ...args], tree.root);
  const wall = (performance.now() - t) / 1000;
  must(`${tree.label}: monoscope ${args.join(" ")}`, r);
  const m = /CPU_US (\d+)/.exec(r.out);
  return { wall, cpu: m ? Number(m[1]) / 1e6 : NaN };
}

const commandsFor = (tree: Tree) => ({
  help: ["--help"],
  query: ["--data-dir", tree.dataDir, "query", QUERY],
});

const rows: BenchRow[] = [];
const notes: string[] = [];
try {
  const here = run("git", ["rev-parse", "--short", "HEAD"], ROOT).out.trim();
  const trees: Tree[] = [{ label: `this tree (${here})`, root: ROOT, dataDir: "" }];
  if (before) {
    const sha = run("git", ["rev-parse", "--short", before], ROOT).out.trim();
    trees.push({ label: `before (${sha})`, root: checkoutBefore(before), dataDir: "" });
  }
  trees.forEach((t, i) => (t.dataDir = demoDataDir(t.root, i === 0 ? "after" : "before")));
  const dist = existsSync(join(ROOT, "dist", ".build-stamp")) && process.env.MONOSCOPE_DEV !== "1";
  notes.push(
    `Each run is a fresh \`node bin/monoscope.js\` process (wall time, stdout discarded); ${runs} timed runs per command and tree after one warm-up, trees alternating run by run.`,
    `This tree ran ${dist ? "the compiled dist/ (tsc build of src/)" : "src/ through tsx (dist/ not built or MONOSCOPE_DEV=1)"}; query runs against the demo SAE 512 in an embedded (PGlite) data dir.`,
  );
  const samples = new Map<string, { wall: number; cpu: number }[]>();
  const load0 = loadavg()[0]!;
  for (let rep = -1; rep < runs; rep++) {
    for (const tree of trees) {
      for (const [name, args] of Object.entries(commandsFor(tree))) {
        const s = timeCli(tree, args);
        if (rep >= 0) samples.set(`${tree.label}|${name}`, [...(samples.get(`${tree.label}|${name}`) ?? []), s]);
      }
    }
    if (rep >= 0 && (rep + 1) % 5 === 0) log(`${rep + 1}/${runs} runs`);
  }
  for (const name of ["help", "query"] as const) {
    const made = trees.map((tree) => {
      const xs = samples.get(`${tree.label}|${name}`)!.map((x) => x.wall);
      const cpu = samples.get(`${tree.label}|${name}`)!.map((x) => x.cpu);
      const row: BenchRow = {
        suite: "cli",
        name: `${name === "help" ? "monoscope --help" : `monoscope query '${QUERY}'`}: ${tree.label}`,
        backend: name === "help" ? "cli" : "cli:pglite",
        sizes: name === "help" ? {} : { features: 512 },
        reps: xs.length,
        metric: "wall time per process, p50",
        unit: "s",
        value: round(percentile(xs, 50), 3),
        better: "lower",
        extra: { p90: round(percentile(xs, 90), 3), min: round(Math.min(...xs), 3), "cpu s p50": round(percentile(cpu, 50), 3), "cpu s p90": round(percentile(cpu, 90), 3) },
      };
      return row;
    });
    const [after, ...rest] = made;
    const target: BenchRow["target"] = { on: "value", op: "<=", limit: TARGETS[name], source: "issue 14" };
    const base = rest[0];
    rows.push({ ...(base ? compare(after!, base) : after!), target, headline: "cli-startup" }, ...rest);
  }
  notes.push(`Load average (1 min) ${load0.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end of the timed runs, on ${availableParallelism()} cores, at nice ${getPriority()}${sharedDataDir ? ", one demo data dir for both trees" : ""}: wall times grow with the load, CPU seconds (user + system, all threads) much less.`);
} finally {
  if (before) run("git", ["worktree", "remove", "--force", join(scratch, "before")], ROOT);
  rmSync(scratch, { recursive: true, force: true });
}
emit({ suite: "cli", rows, notes });
