// Loads schema.graphql (the source of truth) from the project root.
import { readFileSync } from "node:fs";
import { packagePath } from "../paths.ts";

export const SCHEMA_PATH = packagePath("schema.graphql");

export function loadTypeDefs(): string {
  return readFileSync(SCHEMA_PATH, "utf8");
}
