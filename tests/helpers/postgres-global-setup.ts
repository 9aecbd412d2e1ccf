// Finds the PostgreSQL server for the "postgres" test project: TEST_DATABASE_URL or
// DATABASE_URL, else starts the throwaway cluster from scripts/setup-postgres.sh.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export default function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    const script = join(import.meta.dirname, "..", "..", "scripts", "setup-postgres.sh");
    const out = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    url = out.trim().split("\n").at(-1);
  }
  if (!url) throw new Error("no PostgreSQL for the postgres test project: set TEST_DATABASE_URL or run scripts/setup-postgres.sh");
  project.provide("postgresAdminUrl", url);
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
