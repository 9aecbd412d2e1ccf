// The import boundaries of src/ (see README "Code map"). Layers, top to bottom:
//
//   entry      src/cli/, src/demo/, src/app.ts (the composition root), the GraphQL server
//              (every src/graphql/ file not listed under "resolvers")
//   module     src/modules/<domain>/index.ts: builds one module from its dependencies
//   resolvers  *.resolvers.ts, *.loaders.ts, and the GraphQL glue they share
//              (graphql/context.ts, limits.ts, mappers.ts, generated/)
//   services   *.service.ts, and every other file of a module or of ingest/ (rules, parsers, helpers)
//   repos      *.repository.ts: all SQL
//   base       src/db/, src/shared/, src/kernel/, src/util/, src/generated/, config.ts, errors.ts, logger.ts,
//              paths.ts
//
// A layer imports only layers below it (skipping is fine), never above, type-only imports
// included. Modules reach each other only through another module's service (services and
// below) or its index.ts (module root and above), or a dependency-free *.constants.ts (values the
// CLI shows in its help), never its repository, resolvers or helpers.
// One exception, listed and justified at its rule (ingest-bulk-reaches-only-bulk-statements).

const BASE = "^src/(db|shared|kernel|util|generated)/|^src/(config|errors|logger|paths)\\.ts$";
const MODULE_SURFACE = "^src/modules/[^/]+/(index|[^/]+\\.service|[^/]+\\.constants)\\.ts$";
const INGEST_BULK = "^src/ingest/(bulk/bulk\\.repository|ingest\\.session)\\.ts$";
const BULK_STATEMENTS = "^src/modules/(feature/feature-bulk|explanation/explanation|image/image-bulk)\\.repository\\.ts$";
const CONSTANTS = "^src/modules/[^/]+/[^/]+\\.constants\\.ts$";
const REPO = "\\.repository\\.ts$";
const RESOLVER = "\\.(resolvers|loaders)\\.ts$|^src/graphql/(context|limits|mappers)\\.ts$|^src/graphql/generated/";
const MODULE_ROOT = "^src/modules/[^/]+/index\\.ts$";
const ENTRY = "^src/(cli|demo)/|^src/app\\.ts$|^src/graphql/(?!context\\.ts$|limits\\.ts$|mappers\\.ts$|generated/)";

const rule = (name, comment, from, to) => ({ name, comment, severity: "error", from, to });

module.exports = {
  forbidden: [
    rule(
      "web-talks-to-the-api-only",
      "The explorer (src/web/) runs in the browser and reaches the server only over /graphql and /export: it imports no server code, and no server code imports it.",
      { path: "^src/web/" },
      { path: "^src/", pathNot: "^src/web/" },
    ),
    rule("server-ignores-web", "Server code never imports the browser app.", { path: "^src/", pathNot: "^src/web/" }, { path: "^src/web/" }),
    rule("no-cycle", "Import cycles make modules impossible to build or test alone.", {}, { circular: true }),
    rule(
      "base-stays-low",
      "db/, shared/, kernel/ and the process-wide basics know nothing of the domain.",
      { path: BASE },
      { path: "^src/", pathNot: BASE },
    ),
    rule(
      "constants-import-nothing",
      "A module's *.constants.ts holds values the CLI shows in --help: it imports nothing, so help stays light.",
      { path: CONSTANTS },
      { path: "^src/" },
    ),
    rule(
      "repos-below-services",
      "A repository runs SQL for its domain on db/ and shared/ only: no services, helpers, resolvers or entry points.",
      { path: REPO },
      { path: "^src/", pathNot: [BASE, REPO, CONSTANTS] },
    ),
    rule(
      "services-below-resolvers",
      "Services (and the helpers beside them) never depend on GraphQL, module roots or entry points.",
      { path: "^src/", pathNot: [BASE, REPO, RESOLVER, MODULE_ROOT, ENTRY] },
      { path: [RESOLVER, MODULE_ROOT, ENTRY] },
    ),
    rule(
      "resolvers-call-services",
      "Resolvers and loaders call services: no repositories, module roots or server code.",
      { path: RESOLVER },
      { path: [REPO, MODULE_ROOT, ENTRY] },
    ),
    rule(
      "module-roots-below-entry",
      "A module root wires its own module; the composition root wires the modules together.",
      { path: MODULE_ROOT },
      { path: ENTRY },
    ),
    rule(
      "modules-meet-through-services",
      "One module reaches another only through its service or its index.ts.",
      { path: "^src/modules/([^/]+)/" },
      { path: "^src/modules/", pathNot: ["^src/modules/$1/", "^src/modules/[^/]+/(index|[^/]+\\.service|[^/]+\\.constants)\\.ts$"] },
    ),
    rule(
      "outsiders-meet-modules-through-services",
      "ingest/ and the entry points reach a module through its service, index.ts or constants.",
      { path: "^src/(ingest|cli|demo)/|^src/app\\.ts$", pathNot: INGEST_BULK },
      { path: "^src/modules/", pathNot: MODULE_SURFACE },
    ),
    // The one exception. ingest's bulk path (bulk.repository.ts and the session that drives it) runs
    // the feature, explanation and image modules' own bulk-load statements on the single dedicated connection
    // and transaction that makes an import all-or-nothing. The statements stay with the module that
    // owns each table (one owner per table); only these two ingest files may reach them.
    rule(
      "ingest-bulk-reaches-only-bulk-statements",
      "ingest's bulk files reach a module through its service, index.ts, constants or its bulk-load repository.",
      { path: INGEST_BULK },
      { path: "^src/modules/", pathNot: [MODULE_SURFACE, BULK_STATEMENTS] },
    ),
    rule(
      "entry-points-use-services",
      "Only the composition root (app.ts) and module roots construct repositories; entry points call services.",
      { path: "^src/(cli|demo|graphql)/" },
      { path: REPO },
    ),
    rule(
      "modules-below-ingest",
      "ingest/ parses formats and calls module services; modules never depend on it.",
      { path: "^src/modules/" },
      { path: "^src/ingest/" },
    ),
    rule(
      "openai-only-in-llm-client",
      "The LLM client is the one place that speaks to the openai package (tests fake its wire format).",
      { pathNot: "^src/modules/autointerp/llm-client\\.ts$" },
      { path: "node_modules/openai/" },
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/generated/prisma/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["es6"],
  },
};
