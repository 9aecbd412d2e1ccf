// Post-ingest steps as durable, resumable work. The composition root registers each step
// (search indexing, neighbour lists, lineage, map, alignment, co-activation) with the events
// that call for it; ingest records the steps of an event in the database before the SAE
// turns ready (or inside a merge's transaction) and then runs them. A step is DONE only once
// it finished, so whatever a kill -9 interrupts stays pending, visible as Sae.pendingSteps,
// and is finished by the next ingest of that SAE, `monoscope jobs resume` or a server start.
// Steps are idempotent: each resumes from what it stored (ctx.fresh says the stored partial
// output is stale and must be discarded first).
import type { Logger } from "../../logger.ts";
import { runnerGone, thisRunner } from "./job.service.ts";
import type { SqlExecutor, StepClaim, StepRepository, StepRow, StepState } from "./step.repository.ts";

export type { SqlExecutor, StepState } from "./step.repository.ts";

/** What happened to an SAE: created/replaced, its decoders changed, or only examples/labels. */
export type StepEvent = "ready" | "updated" | "examples";

export interface StepContext {
  /** Recorded again since the step last made progress: discard any partial output first. */
  fresh: boolean;
  /** Aborted when the app closes: stop at the next batch (the step stays pending). */
  signal: AbortSignal;
  /** Stores progress durably (and that the stale output is gone); stops the step if it was recorded again meanwhile. */
  progress(done: number, total: number): Promise<void>;
}

export interface StepDefinition {
  name: string;
  on: readonly StepEvent[];
  run(saeId: string, ctx: StepContext): Promise<void>;
}

export interface PendingStep {
  step: string;
  /** RUNNING only while a live runner holds it; one whose runner died reads PENDING. */
  state: Exclude<StepState, "DONE">;
  done: number;
  total: number | null;
}

export type StepProgress = (step: string, done: number, total: number) => void;

/** The step was recorded again while it ran: its work is stale, the new generation is pending. */
class Superseded extends Error {}

const HEARTBEAT_MS = 15_000;

export class StepService {
  private readonly defs: StepDefinition[] = [];
  private readonly controller = new AbortController();
  /** Steps this process is running ("saeId\0step"). */
  private readonly active = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: StepRepository,
    private readonly log: Logger,
  ) {}

  register(def: StepDefinition): void {
    if (this.defs.some((d) => d.name === def.name)) throw new Error(`post-ingest step ${def.name} is registered twice`);
    this.defs.push(def);
  }

  /** Registered step names, in the order they run. */
  names(event?: StepEvent): string[] {
    return this.defs.filter((d) => !event || d.on.includes(event)).map((d) => d.name);
  }

  /** Records the steps an event calls for as pending, on the caller's connection (and transaction). */
  async record(exec: SqlExecutor, saeId: string, event: StepEvent): Promise<void> {
    const names = this.names(event);
    if (names.length) await this.repo.record(exec, saeId, names);
  }

  /** The SAE's steps that are not finished, in the order they run. */
  async pending(saeId: string): Promise<PendingStep[]> {
    const rows = await this.repo.unfinished([saeId]);
    return this.ordered(rows).map((r) => ({
      step: r.step,
      state: r.state === "RUNNING" && this.abandoned(r) ? "PENDING" : (r.state as PendingStep["state"]),
      done: r.done,
      total: r.total,
    }));
  }

  /**
   * Runs the SAE's unfinished steps in this process, in order (each failure is logged and
   * stays FAILED, to be retried next time); steps a live runner holds are left to it.
   * Returns how many steps this call ran to the end.
   */
  async runPending(saeId: string, onProgress?: StepProgress): Promise<number> {
    const tried = new Set<string>();
    let finished = 0;
    // Another pass picks up steps recorded again while they ran.
    for (let pass = 0; pass < 3 && !this.controller.signal.aborted; pass++) {
      let ran = false;
      for (const row of this.ordered(await this.repo.unfinished([saeId]))) {
        if (this.controller.signal.aborted) break;
        const def = this.defs.find((d) => d.name === row.step);
        const key = `${row.generation}:${row.step}`;
        if (!def || tried.has(key) || (row.state === "RUNNING" && !this.abandoned(row))) continue;
        tried.add(key);
        const claimed = await this.repo.claim(row, thisRunner());
        if (!claimed) continue;
        ran = true;
        if (await this.runClaimed(def, claimed, row, onProgress)) finished++;
      }
      if (!ran) break;
    }
    return finished;
  }

  /** Finishes every ready SAE's unfinished steps (`monoscope jobs resume`, server start). */
  async resumeAll(onProgress?: (saeId: string, step: string, done: number, total: number) => void): Promise<{ saes: string[]; steps: number }> {
    const saes = await this.repo.saesWithUnfinished();
    let steps = 0;
    for (const saeId of saes) {
      if (this.controller.signal.aborted) break;
      steps += await this.runPending(saeId, onProgress && ((step, done, total) => onProgress(saeId, step, done, total)));
    }
    return { saes, steps };
  }

  /** Stops running steps at their next batch (they stay pending) and waits for them. */
  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled([...this.active.values()]);
  }

  private ordered(rows: StepRow[]): StepRow[] {
    const rank = (s: string) => {
      const i = this.defs.findIndex((d) => d.name === s);
      return i < 0 ? this.defs.length : i;
    };
    return [...rows].sort((a, b) => rank(a.step) - rank(b.step));
  }

  /** RUNNING, but its runner is gone (killed, or a previous process that had this pid). */
  private abandoned(r: StepRow): boolean {
    if (r.runner === thisRunner()) return !this.active.has(`${r.saeId}\0${r.step}`);
    return runnerGone(r.runner, r.heartbeatAt ?? r.updatedAt);
  }

  private async runClaimed(def: StepDefinition, row: StepRow, seen: StepRow, onProgress?: StepProgress): Promise<boolean> {
    const claim: StepClaim = { saeId: row.saeId, step: row.step, generation: row.generation, runner: thisRunner() };
    const what = `SAE ${row.saeId}: post-ingest step ${row.step}`;
    // A step recorded again because its data changed starts over (done 0, no runner): not a resume.
    if (seen.state === "FAILED") this.log.info(`${what}: retrying after an earlier failure`);
    else if (seen.state === "RUNNING" || seen.done > 0) this.log.info(`${what}: resuming what an earlier run left unfinished${row.total ? ` (${row.done}/${row.total} done)` : ""}`);
    const ctx: StepContext = {
      fresh: row.fresh,
      signal: this.controller.signal,
      progress: async (done, total) => {
        if (!(await this.repo.progress(claim, done, total))) throw new Superseded();
        onProgress?.(row.step, done, total);
      },
    };
    const beat = setInterval(() => void this.repo.heartbeat(claim).catch(() => {}), HEARTBEAT_MS);
    beat.unref();
    const activeKey = `${row.saeId}\0${row.step}`;
    const work = (async () => {
      try {
        await def.run(row.saeId, ctx);
        await this.repo.finish(claim, "DONE", null);
        return true;
      } catch (e) {
        if (e instanceof Superseded) {
          this.log.info(`${what}: the SAE changed while it ran; it runs again`);
        } else if (this.controller.signal.aborted) {
          await this.repo.finish(claim, "PENDING", null).catch(() => {});
          this.log.info(`${what}: paused; \`monoscope jobs resume\` or the next ingest of the SAE finishes it`);
        } else {
          const message = (e as Error).message;
          await this.repo.finish(claim, "FAILED", message).catch(() => {});
          this.log.warn(`SAE ${row.saeId} is ingested, but its post-ingest step ${row.step} failed: ${message} (\`monoscope jobs resume\` retries it)`);
        }
        return false;
      } finally {
        clearInterval(beat);
      }
    })();
    this.active.set(activeKey, work.then(() => {}));
    try {
      return await work;
    } finally {
      this.active.delete(activeKey);
    }
  }
}
