// Reading a suite's stdout: one JSON document, possibly after stray output.

/** The suite's JSON document: the whole stdout, or the last top-level JSON object in it. */
export function parseSuiteOutput(stdout: string): Record<string, unknown> | null {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    for (let i = text.lastIndexOf("\n{"); i >= 0; i = text.lastIndexOf("\n{", i - 1)) {
      try {
        return JSON.parse(text.slice(i + 1)) as Record<string, unknown>;
      } catch {
        /* keep looking further up */
      }
    }
    return null;
  }
}
