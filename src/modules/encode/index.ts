// The encode module: activation vectors through an SAE's stored encoder.
import type { Database } from "../../db/database.ts";
import { createKernel } from "../../kernel/index.ts";
import type { Logger } from "../../logger.ts";
import { EncodeRepository } from "./encode.repository.ts";
import { EncodeService } from "./encode.service.ts";

export { encodeResolvers } from "./encode.resolvers.ts";
export { EncodeService } from "./encode.service.ts";

export function buildEncodeModule(db: Database, opts: { maxK: number; log: Logger; kernel?: "auto" | "native" | "js" }) {
  const encode = new EncodeService(new EncodeRepository(db), {
    maxK: opts.maxK,
    log: opts.log,
    kernel: () => createKernel({ backend: opts.kernel ?? "auto" }),
  });
  return { encode };
}
