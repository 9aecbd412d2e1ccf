// Statement counts behind Database.stats: every statement sent, and those that may have written,
// so a cache of what is stored (the cost limit's stored sizes) can tell that this process
// changed nothing since it looked.
export interface DbStats {
  statements: number;
  writes: number;
}

// A plain read: SELECT, SHOW or WITH after any comments, with no data-modifying part and calling nothing that changes state.
const READ = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*(?:SELECT|SHOW|WITH)\b/i;
const WRITES_ANYWAY = /\b(?:INSERT|UPDATE|DELETE|MERGE|nextval|setval|set_config|pg_advisory\w*|lo_\w+|pg_notify)\b/i;

/**
 * Counts one statement (query: the driver's first argument) in stats; result: what the driver
 * returned. A write counts again once it settles, so a look taken while it ran is not current.
 */
export function countStatement<R>(stats: DbStats, query: unknown, result: R): R {
  stats.statements++;
  const text = typeof query === "string" ? query : typeof (query as { text?: unknown } | null)?.text === "string" ? (query as { text: string }).text : null;
  if (text !== null && READ.test(text) && !WRITES_ANYWAY.test(text)) return result;
  stats.writes++;
  const settled = () => void stats.writes++;
  if (result && typeof (result as { then?: unknown }).then === "function") (result as unknown as Promise<unknown>).then(settled, settled);
  return result;
}
