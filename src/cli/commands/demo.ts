// `monoscope demo [--port N]` (also `npm start`): sets up the GloVe × WordNet demo family
// (ingest through the ordinary importers, then the post-ingest steps other capabilities
// register in src/demo/steps.ts; each step skips work already done) and serves the API.
import type { Command } from "commander";
import { exampleQueries, showcaseFeature } from "../../demo/example-queries.ts";
import { DEFAULT_DEMO_DATA_DIR } from "../../demo/demo.types.ts";
import { cliConfig, cliLogger, globalOptions, intOption } from "../runtime.ts";
import { waitForShutdown } from "./serve.ts";

interface DemoOptions {
  port?: number;
  host?: string;
  sizes?: string;
  demoDir?: string;
  setupOnly?: boolean;
}

export function registerDemo(program: Command) {
  program
    .command("demo")
    .description("load the demo SAE family (GloVe word vectors × WordNet text) if needed, then serve the GraphQL API")
    .option("--port <n>", "port to listen on (default 4000 or MONOSCOPE_PORT)", intOption("--port", 0))
    .option("--host <host>", "interface to bind (default 127.0.0.1 or MONOSCOPE_HOST)")
    .option("--sizes <list>", "only these SAE sizes, e.g. 512,2048 (default: all in the demo data)")
    .option("--demo-dir <dir>", "demo data directory (default: data/demo in the package)")
    .option("--setup-only", "set up the demo and exit without serving")
    .action(async (opts: DemoOptions, cmd: Command) => {
      const { createApp } = await import("../../app.ts");
      const { runDemoSetup } = await import("../../demo/run-demo.ts");
      const { startHttpServer } = await import("../../graphql/http.ts");
      const { createProgress, silentProgress } = await import("../../ingest/progress.ts");
      const g = globalOptions(cmd);
      const config = await cliConfig(g);
      const app = await createApp(config, { log: await cliLogger(g) });
      let served = false;
      try {
        const sizes = opts.sizes ? parseSizes(opts.sizes) : undefined;
        const dataDir = opts.demoDir ?? DEFAULT_DEMO_DATA_DIR;
        const t0 = performance.now();
        const setup = await runDemoSetup(app, { dataDir, sizes, progress: g.quiet ? silentProgress : createProgress() });
        app.log.info(`demo ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${app.db.location})`);
        if (opts.setupOnly) return;
        const server = await startHttpServer(app, { port: opts.port, host: opts.host });
        served = true;
        const queries = exampleQueries(setup.saes, showcaseFeature(dataDir, setup.saes[0]));
        const lines = [`Monoscope demo: GraphQL API at ${server.url}/graphql (query IDE at ${server.url}/)`, "", "Try:"];
        for (const q of queries) lines.push(`  # ${q.title}`, `  ${q.query}`, "");
        lines.push(`  curl -s ${server.url}/graphql -H 'content-type: application/json' -d '{"query":"{ families { id } }"}'`, "");
        process.stdout.write(lines.join("\n") + "\n");
        await waitForShutdown(async () => {
          await server.close();
          await app.close();
        });
      } finally {
        if (!served) await app.close();
      }
    });
}

function parseSizes(list: string): number[] {
  const sizes = list.split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new (class extends Error {
      code = "commander.invalidArgument";
    })(`--sizes must be a comma-separated list of SAE sizes, got ${JSON.stringify(list)}`);
  }
  return sizes;
}
