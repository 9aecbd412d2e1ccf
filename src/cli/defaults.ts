// Defaults shown in `--help`, kept in a file with no imports so that help loads nothing else.

/** Seconds `serve`/`demo` let in-flight requests finish after SIGTERM/SIGINT. */
export const DEFAULT_SHUTDOWN_SECONDS = 10;
