// GET /export/<saeId>.ndjson: every feature of an SAE as one JSON line each
// ({index, x, y, density, maxActivation, label}), in index order, for maps and bulk
// analysis. It pages through the same GraphQL `features` query the API serves, so
// labels and visibility rules come from the modules that own them.
import type { ApolloServer } from "@apollo/server";
import type { App } from "../app.ts";
import { AppError, ErrorCode } from "../errors.ts";
import type { Caller } from "./auth.ts";
import type { GraphQLContext } from "./context.ts";
import { createContext } from "./create-context.ts";

const PAGE = `query Export($saeId: ID!, $first: Int!, $after: String) {
  features(saeId: $saeId, first: $first, after: $after, orderBy: INDEX) {
    edges { node { index density maxActivation umap { x y } label } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface PageResult {
  lines: string[];
  next: string | null;
}

async function fetchPage(apollo: ApolloServer<GraphQLContext>, app: App, caller: Caller, saeId: string, after: string | null): Promise<PageResult> {
  const first = Math.min(1000, app.config.server.maxPageSize);
  const res = await apollo.executeOperation({ query: PAGE, variables: { saeId, first, after } }, { contextValue: createContext(app, caller) });
  if (res.body.kind !== "single") throw new Error("unexpected incremental result");
  const { data, errors } = res.body.singleResult as { data?: any; errors?: { message: string; path?: readonly (string | number)[]; extensions?: { code?: string } }[] };
  const conn = data?.features;
  // Field-level errors on label (e.g. not available on this server) leave label null; anything else fails the export.
  const fatal = (errors ?? []).find((e) => !(conn && e.path?.at(-1) === "label"));
  if (!conn || fatal) {
    const code = fatal?.extensions?.code;
    if (code === ErrorCode.NOT_FOUND || code === ErrorCode.BAD_USER_INPUT) throw new AppError(code, fatal!.message);
    throw new Error(`export page failed: ${fatal?.message ?? "no data"}`);
  }
  const lines = conn.edges.map(({ node: n }: any) =>
    JSON.stringify({ index: n.index, x: n.umap?.x ?? null, y: n.umap?.y ?? null, density: n.density, maxActivation: n.maxActivation, label: n.label ?? null }) + "\n",
  );
  return { lines, next: conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null };
}

/** The first page is fetched before anything is sent, so an unknown SAE is a clean 404. */
export async function exportFeatures(apollo: ApolloServer<GraphQLContext>, app: App, caller: Caller, saeId: string): Promise<AsyncGenerator<string>> {
  const first = await fetchPage(apollo, app, caller, saeId, null);
  return (async function* () {
    let page = first;
    for (;;) {
      if (page.lines.length) yield page.lines.join("");
      if (!page.next) return;
      page = await fetchPage(apollo, app, caller, saeId, page.next);
    }
  })();
}
