// The app's only way to the server: POST /graphql (and GET /export for the map). Documents
// come from graphql() in ./gql, generated from schema.graphql, so results are typed.
// Mutations send the API key the user gave once this browser session (sessionStorage).
import type { TypedDocumentString } from "./gql/graphql";

const KEY = "monoscope.apiKey";

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

async function post<R>(query: string, variables: unknown): Promise<R> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json().catch(() => null)) as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  if (!body) throw new GraphQLRequestError(`HTTP ${res.status}`, undefined);
  if (body.errors?.length && !body.data) throw new GraphQLRequestError(body.errors[0].message, body.errors[0].extensions?.code);
  if (body.errors?.length) {
    const e = body.errors.find((x) => x.extensions?.code === "UNAUTHENTICATED");
    if (e) throw new GraphQLRequestError(e.message, e.extensions?.code);
  }
  return body.data as R;
}

export function gqlRequest<R, V>(doc: TypedDocumentString<R, V>, variables: V): Promise<R> {
  return post<R>(doc.toString(), variables);
}

/** A mutation: when the server wants a key, ask for it once and retry. */
export async function mutate<R, V>(doc: TypedDocumentString<R, V>, variables: V): Promise<R> {
  try {
    return await gqlRequest(doc, variables);
  } catch (e) {
    if (!(e instanceof GraphQLRequestError) || e.code !== "UNAUTHENTICATED") throw e;
    const key = window.prompt("This server needs an API key for changes. It is kept for this browser session only.");
    if (!key) throw e;
    setApiKey(key.trim());
    return gqlRequest(doc, variables);
  }
}

export interface MapPoint {
  index: number;
  x: number | null;
  y: number | null;
  density: number | null;
  label: string | null;
}

/**
 * Every feature's map point from the NDJSON export, read as it streams: onPoints gets each batch
 * of complete lines, so the map draws (and can be panned) before the last page has arrived.
 */
export async function exportPoints(saeId: string, onPoints?: (all: MapPoint[]) => void): Promise<MapPoint[]> {
  const headers: Record<string, string> = {};
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`/export/${encodeURIComponent(saeId)}.ndjson`, { headers });
  if (!res.ok || !res.body) throw new Error(`export failed: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const all: MapPoint[] = [];
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    const text = rest + (value ?? "");
    const cut = done ? text.length : text.lastIndexOf("\n") + 1;
    for (const line of text.slice(0, cut).split("\n")) if (line) all.push(JSON.parse(line) as MapPoint);
    rest = text.slice(cut);
    if (done) return all;
    if (cut > 0) onPoints?.(all.slice());
  }
}
