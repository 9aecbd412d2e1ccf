// Three projects: unit tests (no database), and the integration + e2e suites run
// once per backend (embedded PGlite and a real PostgreSQL) from the same files.
import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const backendSuites = ["tests/integration/**/*.test.ts", "tests/e2e/**/*.test.ts"];

export default defineConfig({
  // One graphql for the sources and for Apollo Server and graphql-armor, as under plain Node
  // (the package's CommonJS main): left alone, Vite resolves the sources' import to its ESM
  // build, and a schema built by one copy is refused by the other.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "pglite", include: backendSuites, env: { MONOSCOPE_TEST_BACKEND: "pglite" } },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: backendSuites,
          env: { MONOSCOPE_TEST_BACKEND: "postgres" },
          globalSetup: ["tests/helpers/postgres-global-setup.ts"],
        },
      },
    ],
  },
});
