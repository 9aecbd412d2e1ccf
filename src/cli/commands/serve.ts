import type { Command } from "commander";
import { createApp } from "../../app.ts";
import { startHttpServer } from "../../graphql/http.ts";
import { nativeScanUnavailable } from "../../kernel/native-scan.ts";
import { createLogger } from "../../logger.ts";
import { cliConfig, globalOptions, intOption } from "../runtime.ts";

export function registerServe(program: Command) {
  program
    .command("serve")
    .description("serve the GraphQL API over HTTP (/ query IDE, /graphql, /export/<saeId>.ndjson, /healthz, /readyz, /metrics)")
    .option("--port <n>", "port to listen on (default 4000 or MONOSCOPE_PORT)", intOption("--port", 0))
    .option("--host <host>", "interface to bind (default 127.0.0.1 or MONOSCOPE_HOST)")
    .action(async (opts: { port?: number; host?: string }, cmd: Command) => {
      const config = cliConfig(globalOptions(cmd));
      const app = await createApp(config, { log: createLogger(config) });
      const server = await startHttpServer(app, { port: opts.port, host: opts.host });
      process.stderr.write(`monoscope: GraphQL API at ${server.url}/graphql (${app.db.location})\n`);
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
      await waitForShutdown(async () => {
        await server.close();
        await app.close();
      });
    });
}

export function waitForShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const handler = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      void stop().finally(resolve);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
