// The demo's attribution-graph step: imports the real circuit-tracer graph shipped under
// data/demo/graphs/ (gemma-3-1b on "<bos>123"), so graph, graphPaths and graphMediators have
// something to answer. Idempotent: the same file again is a no-op.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { GraphService } from "../modules/graph/index.ts";

/** Structurally a DemoStep. */
export const attributionGraphStep = {
  name: "graphs",
  async run(ctx: { services: { graph: GraphService }; dataDir: string }): Promise<string> {
    const dir = join(ctx.dataDir, "graphs");
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    } catch {
      return `no ${dir}: no attribution graphs`;
    }
    const parts: string[] = [];
    for (const f of files) {
      const s = await ctx.services.graph.ingestFile(join(dir, f), { file: f });
      parts.push(`${s.slug} ${s.outcome === "skipped" ? "(kept)" : `${s.outcome}: ${s.nodes} nodes, ${s.links} links`}`);
    }
    return `attribution graphs: ${parts.join("; ") || "none"}`;
  },
};
