// Fields whose capability has not landed yet answer with a clear NOT_IMPLEMENTED
// error instead of pretending to work. Each module's real resolver replaces its entry.
import { AppError, ErrorCode } from "../errors.ts";

const todo = (field: string) => () => {
  throw new AppError(ErrorCode.NOT_IMPLEMENTED, `${field} is not implemented yet`);
};

const fields: Record<string, string[]> = {
  Query: [
    "nearestFeatures",
    "nearestToVector",
    "splitLineage",
  ],
};

export const notImplementedResolvers = Object.fromEntries(
  Object.entries(fields).map(([type, names]) => [type, Object.fromEntries(names.map((n) => [n, todo(`${type}.${n}`)]))]),
);
