import type { Command } from "commander";
import { badInput } from "../../errors.ts";
import { withApp } from "../runtime.ts";

export function registerQuery(program: Command) {
  program
    .command("query")
    .description("run a GraphQL operation in process; prints only the JSON result on stdout (exit 1 on errors)")
    .argument("<graphql>", "the GraphQL document, e.g. '{ saes { id } }'")
    .option("--variables <json>", "variables as a JSON object")
    .action(async (document: string, opts: { variables?: string }, cmd: Command) => {
      let variables: Record<string, unknown> | undefined;
      if (opts.variables !== undefined) {
        try {
          variables = JSON.parse(opts.variables);
        } catch (e) {
          throw badInput(`--variables: not valid JSON: ${(e as Error).message}`);
        }
        if (!variables || typeof variables !== "object" || Array.isArray(variables)) throw badInput("--variables: must be a JSON object");
      }
      const { executeQuery } = await import("../../graphql/execute.ts");
      const result = await withApp(cmd, (app) => executeQuery(app, document, variables));
      process.stdout.write(JSON.stringify(result) + "\n");
      if (result.errors?.length) process.exitCode = 1;
    });
}
