import type { Command } from "commander";
import { badInput } from "../../errors.ts";
import { graphqlOnServer } from "../remote/http-verbs.ts";
import { servingApi, setExitCode, withApp } from "../runtime.ts";

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
      // A server holding the embedded data dir answers it over HTTP, as it would any client.
      const api = await servingApi(cmd);
      const result = api
        ? await graphqlOnServer(api, document, variables)
        : await withApp(cmd, async (app) => (await import("../../graphql/execute.ts")).executeQuery(app, document, variables));
      process.stdout.write(JSON.stringify(result) + "\n");
      if (result.errors?.length) setExitCode(1);
    });
}
