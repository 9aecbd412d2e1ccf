-- Image activation examples (multimodal features): the image bytes, content-addressed by
-- their SHA-256 so that an image shared by several examples or SAEs is stored once, and per
-- activation row the image it shows (stored bytes or an external URL) with its patch grid.
-- Written for PostgreSQL 15 and PGlite; keep it free of newer syntax.

CREATE TABLE "example_image" (
    "sha256" TEXT NOT NULL,
    -- image/png, image/jpeg or image/webp, from the file's magic bytes (never its name).
    "content_type" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "example_image_pkey" PRIMARY KEY ("sha256"),
    CONSTRAINT "example_image_sha256_check" CHECK ("sha256" ~ '^[0-9a-f]{64}$'),
    CONSTRAINT "example_image_content_type_check" CHECK ("content_type" IN ('image/png', 'image/jpeg', 'image/webp')),
    CONSTRAINT "example_image_size_check" CHECK ("width" > 0 AND "height" > 0)
);

-- One row per image example: the activation row keeps tokens [] and text '' and its values
-- are the patch activations, row-major over patch_rows x patch_cols.
CREATE TABLE "activation_image" (
    "sae_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "image_sha256" TEXT,
    -- An external image the browser loads; the server never fetches it.
    "url" TEXT,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "patch_rows" INTEGER NOT NULL,
    "patch_cols" INTEGER NOT NULL,
    CONSTRAINT "activation_image_pkey" PRIMARY KEY ("sae_id", "feature_idx", "ordinal"),
    CONSTRAINT "activation_image_source_check" CHECK (("image_sha256" IS NULL) <> ("url" IS NULL)),
    CONSTRAINT "activation_image_grid_check" CHECK ("patch_rows" > 0 AND "patch_cols" > 0 AND "width" > 0 AND "height" > 0)
);
-- Removing an SAE drops the images no other example uses: found through this index.
CREATE INDEX "activation_image_image_sha256_idx" ON "activation_image"("image_sha256");

ALTER TABLE "activation_image" ADD CONSTRAINT "activation_image_activation_fkey"
    FOREIGN KEY ("sae_id", "feature_idx", "ordinal") REFERENCES "activation"("sae_id", "feature_idx", "ordinal") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "activation_image" ADD CONSTRAINT "activation_image_image_sha256_fkey"
    FOREIGN KEY ("image_sha256") REFERENCES "example_image"("sha256") ON DELETE RESTRICT ON UPDATE CASCADE;
