import { AppError, ErrorCode } from "../../errors.ts";
import type { IngestOptions, IngestService } from "../ingest.service.ts";
import type { IngestSummary } from "../ingest.types.ts";
import type { Logger } from "../../logger.ts";

export interface NeuronpediaImport extends Pick<IngestOptions, "replace" | "progress"> {
  path: string;
  saeId?: string;
  modelId?: string;
  familyId?: string;
  dIn?: number;
  dSae?: number;
  log?: Logger;
}

export async function importNeuronpedia(_ingest: IngestService, _opts: NeuronpediaImport): Promise<IngestSummary> {
  throw new AppError(ErrorCode.NOT_IMPLEMENTED, "ingest neuronpedia is not implemented yet");
}
