// `monoscope demo [--port N]` (also `npm start`): sets up the GloVe × WordNet demo family
// (ingest through the ordinary importers, then the post-ingest steps other capabilities
// register in src/demo/steps.ts; each step skips work already done) and serves the API.
import type { Command } from "commander";
import { exampleQueries, showcaseFeature } from "../../demo/example-queries.ts";
import { DEFAULT_DEMO_DATA_DIR } from "../../demo/demo.types.ts";
import { cliConfig, cliLogger, globalOptions, intOption } from "../runtime.ts";
import { DEFAULT_SHUTDOWN_SECONDS } from "../defaults.ts";

interface DemoOptions {
  port?: number;
  host?: string;
  sizes?: string;
  demoDir?: string;
  setupOnly?: boolean;
  shutdownTimeout: number;
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
    .option("--shutdown-timeout <s>", "on SIGTERM/SIGINT, seconds to let in-flight requests finish", intOption("--shutdown-timeout", 0), DEFAULT_SHUTDOWN_SECONDS)
    .action(async (opts: DemoOptions, cmd: Command) => {
      const { createApp } = await import("../../app.ts");
      const { runDemoSetup } = await import("../../demo/run-demo.ts");
      const { startHttpServer } = await import("../../graphql/http.ts");
      const { createProgress, silentProgress } = await import("../../ingest/progress.ts");
      const g = globalOptions(cmd);
      const { clientAwareLogger } = await import("../remote/stdio.ts");
      const { serveUntilSignal, shareDataDir } = await import("../serving.ts");
      const config = await cliConfig(g);
      const log = await cliLogger(g);
      const app = await createApp(config, { log: clientAwareLogger(log) });
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
        const verbs = await shareDataDir(app, server, log);
        const stopped = serveUntilSignal({ app, http: server, verbs, log, shutdownSeconds: opts.shutdownTimeout });
        const queries = exampleQueries(setup.saes, showcaseFeature(dataDir, setup.saes[0]));
        const lines = [`Monoscope demo: the explorer at ${server.url}/, GraphQL API at ${server.url}/graphql (query IDE at ${server.url}/graphiql)`, "", "Try:"];
        for (const q of queries) lines.push(`  # ${q.title}`, `  ${q.query}`, "");
        lines.push(`  curl -s ${server.url}/graphql -H 'content-type: application/json' -d '{"query":"{ families { id } }"}'`, "");
        process.stdout.write(lines.join("\n") + "\n");
        await stopped;
        process.exit(0);
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
