// The image module: stored example images, served by hash.
import type { Database } from "../../db/database.ts";
import { ImageRepository } from "./image.repository.ts";
import { ImageService } from "./image.service.ts";

export function buildImageModule(db: Database) {
  return { images: new ImageService(new ImageRepository(db)) };
}
