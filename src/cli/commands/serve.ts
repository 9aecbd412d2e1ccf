import type { Command } from "commander";
import { cliConfig, globalOptions, intOption } from "../runtime.ts";
import { DEFAULT_SHUTDOWN_SECONDS } from "../defaults.ts";

export function registerServe(program: Command) {
  program
    .command("serve")
    .description("serve the explorer and the GraphQL API over HTTP (/ explorer, /graphiql query IDE, /graphql, /export/<saeId>.ndjson, /healthz, /readyz, /metrics)")
    .option("--port <n>", "port to listen on (default 4000 or MONOSCOPE_PORT)", intOption("--port", 0))
    .option("--host <host>", "interface to bind (default 127.0.0.1 or MONOSCOPE_HOST)")
    .option("--shutdown-timeout <s>", "on SIGTERM/SIGINT, seconds to let in-flight requests finish", intOption("--shutdown-timeout", 0), DEFAULT_SHUTDOWN_SECONDS)
    .action(async (opts: { port?: number; host?: string; shutdownTimeout: number }, cmd: Command) => {
      const { createApp } = await import("../../app.ts");
      const { startHttpServer } = await import("../../graphql/http.ts");
      const { nativeScanUnavailable } = await import("../../kernel/native-scan.ts");
      const { createLogger } = await import("../../logger.ts");
      const { clientAwareLogger } = await import("../remote/stdio.ts");
      const { serveUntilSignal, shareDataDir } = await import("../serving.ts");
      const config = await cliConfig(globalOptions(cmd));
      const log = createLogger(config);
      const app = await createApp(config, { log: clientAwareLogger(log) });
      const http = await startHttpServer(app, { port: opts.port, host: opts.host });
      const verbs = await shareDataDir(app, http, log);
      const stopped = serveUntilSignal({ app, http, verbs, log, shutdownSeconds: opts.shutdownTimeout });
      const native = app.services.geometry.nativeScan;
      app.log.info(
        native
          ? `single-query nearest scans: native 4-bit kernel (${native.variant})`
          : `single-query nearest scans: int8 on ONNX Runtime (native 4-bit kernel not in use: ${nativeScanUnavailable(app.config.kernel.nativeScan) ?? "this CPU has neither AVX-512 VNNI nor AVX2 with FMA"})`,
      );
      // Auto-interp jobs that a restart paused (or a crash left behind) carry on.
      await app.services.autointerp.resumeUnfinished();
      // So do post-ingest steps an interrupted ingest left pending, in the background.
      void app.services.steps.resumeAll().catch((e) => app.log.warn(`post-ingest steps not resumed: ${(e as Error).message}`));
      // Last, so that a script waiting for this line finds everything ready (signals handled, socket open).
      process.stderr.write(`monoscope: GraphQL API at ${http.url}/graphql (${app.db.location})\n`);
      await stopped;
      // Done: leftover handles (worker threads, timers) must not keep a stopped server alive.
      process.exit(0);
    });
}
