// Loads schema.graphql (the source of truth) from the project root.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "schema.graphql");

export function loadTypeDefs(): string {
  return readFileSync(SCHEMA_PATH, "utf8");
}
