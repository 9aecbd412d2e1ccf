// Writing an SAE out in other tools' layouts (today Neuronpedia's export, which
// `ingest neuronpedia` reads back).
import type { Database } from "../../db/database.ts";
import { exportNativeActivations, type NativeExportSummary } from "./export-native.ts";
import { exportNeuronpedia, type ExportSummary } from "./export-neuronpedia.ts";
import { ExportRepository } from "./export.repository.ts";

export class ExportService {
  private readonly repo: ExportRepository;

  constructor(db: Database) {
    this.repo = new ExportRepository(db);
  }

  /** features/, activations/ and explanations/ as gzipped JSONL under `out`. */
  neuronpedia(saeId: string, out: string): Promise<ExportSummary> {
    return exportNeuronpedia(this.repo, saeId, out);
  }

  /** Activation examples (images beside the file) and feature stats as native JSONL, gzipped when out ends in .gz. */
  nativeActivations(saeId: string, out: string): Promise<NativeExportSummary> {
    return exportNativeActivations(this.repo, saeId, out);
  }
}
