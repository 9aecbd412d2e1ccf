-- Attribution graphs (circuit-tracer / Neuronpedia graph JSON): one row per graph, its nodes
-- and its links. Written for PostgreSQL 15 and PGlite; keep it free of newer syntax.
--
-- The columns hold what queries filter, rank or join on (weights, influence and activation in
-- double precision); every other field of the file is kept verbatim in jsonb, so that an export
-- rebuilt from these rows equals the original file field by field.

CREATE TABLE "attribution_graph" (
    -- A new id per ingest: caches keyed by it never serve a replaced graph.
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "model_id" TEXT NOT NULL,
    "prompt" TEXT NOT NULL,
    "prompt_tokens" JSONB NOT NULL,
    -- metadata without slug, scan, prompt and prompt_tokens.
    "metadata" JSONB NOT NULL,
    "q_params" JSONB NOT NULL,
    -- Top-level keys besides metadata, qParams, nodes and links (e.g. qk_only_nodes).
    "extra" JSONB NOT NULL,
    "node_count" INTEGER NOT NULL,
    "link_count" INTEGER NOT NULL,
    -- sha256 of the file and of the layer → SAE mapping: the same ingest again is a no-op.
    "content_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "attribution_graph_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "attribution_graph_slug_key" UNIQUE ("slug")
);
CREATE INDEX "attribution_graph_model_id_idx" ON "attribution_graph"("model_id", "slug");

CREATE TABLE "graph_node" (
    "graph_id" INTEGER NOT NULL,
    -- Position in the file's nodes array; links refer to nodes by it.
    "pos" INTEGER NOT NULL,
    "node_id" TEXT NOT NULL,
    -- FEATURE | ERROR | EMBEDDING | LOGIT, from feature_type.
    "kind" TEXT NOT NULL,
    "layer" TEXT NOT NULL,
    "ctx_idx" INTEGER NOT NULL,
    -- NULL when the file has null or no value (fields says which).
    "influence" DOUBLE PRECISION,
    "activation" DOUBLE PRECISION,
    "token_prob" DOUBLE PRECISION,
    "clerp" TEXT,
    -- The SAE feature this node is, where its layer maps to an SAE (linked when that feature is stored).
    "sae_id" TEXT,
    "feature_idx" INTEGER,
    -- The node's remaining fields, verbatim.
    "fields" JSONB NOT NULL,
    CONSTRAINT "graph_node_pkey" PRIMARY KEY ("graph_id", "pos"),
    CONSTRAINT "graph_node_node_id_key" UNIQUE ("graph_id", "node_id"),
    CONSTRAINT "graph_node_kind_check" CHECK ("kind" IN ('FEATURE', 'ERROR', 'EMBEDDING', 'LOGIT'))
);
-- Feature.graphs looks nodes up by feature.
CREATE INDEX "graph_node_sae_id_feature_idx_idx" ON "graph_node"("sae_id", "feature_idx") WHERE "sae_id" IS NOT NULL;

CREATE TABLE "graph_link" (
    "graph_id" INTEGER NOT NULL,
    "pos" INTEGER NOT NULL,
    "source" INTEGER NOT NULL,
    "target" INTEGER NOT NULL,
    "weight" DOUBLE PRECISION NOT NULL,
    -- Fields besides source, target and weight, if a file has any.
    "extra" JSONB,
    CONSTRAINT "graph_link_pkey" PRIMARY KEY ("graph_id", "pos")
);
CREATE INDEX "graph_link_source_idx" ON "graph_link"("graph_id", "source");
CREATE INDEX "graph_link_target_idx" ON "graph_link"("graph_id", "target");

ALTER TABLE "graph_node" ADD CONSTRAINT "graph_node_graph_id_fkey"
    FOREIGN KEY ("graph_id") REFERENCES "attribution_graph"("id") ON DELETE CASCADE;
-- graph_link has no foreign key on purpose: a graph may have millions of links, and a per-row
-- check on each would dominate its ingest. The repository deletes a graph's links with the graph
-- (in one transaction), and links point at nodes by position, checked before anything is written.
