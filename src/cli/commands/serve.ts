import type { Command } from "commander";
import { cliConfig, globalOptions, intOption } from "../runtime.ts";

export function registerServe(program: Command) {
  program
    .command("serve")
    .description("serve the GraphQL API over HTTP (/ query IDE, /graphql, /export/<saeId>.ndjson, /healthz, /readyz, /metrics)")
    .option("--port <n>", "port to listen on (default 4000 or MONOSCOPE_PORT)", intOption("--port", 0))
    .option("--host <host>", "interface to bind (default 127.0.0.1 or MONOSCOPE_HOST)")
    .action(async (opts: { port?: number; host?: string }, cmd: Command) => {
      const { createApp } = await import("../../app.ts");
      const { startHttpServer } = await import("../../graphql/http.ts");
      const { nativeScan, nativeScanUnavailable } = await import("../../kernel/native-scan.ts");
      const { createLogger } = await import("../../logger.ts");
      const config = await cliConfig(globalOptions(cmd));
      const app = await createApp(config, { log: createLogger(config) });
      const server = await startHttpServer(app, { port: opts.port, host: opts.host });
      process.stderr.write(`monoscope: GraphQL API at ${server.url}/graphql (${app.db.location})\n`);
      const native = nativeScan();
      app.log.info(
        native
          ? `single-query nearest scans: native 4-bit kernel (${native.variant})`
          : `single-query nearest scans: int8 on ONNX Runtime (native 4-bit kernel not in use: ${nativeScanUnavailable() ?? "this CPU has neither AVX-512 VNNI nor AVX2 with FMA"})`,
      );
      // Auto-interp jobs that a restart paused (or a crash left behind) carry on.
      await app.services.autointerp.resumeUnfinished();
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
