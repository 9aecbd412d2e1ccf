// Real URLs through the history API: Link pushes a state, the back button pops it, and a deep
// link renders the same page because the server answers every app URL with the same shell.
// An SAE id is one URL-encoded path segment (/sae/glove-wordnet%2F512).
import { type MouseEvent, type ReactNode, useEffect, useState } from "react";

export type Route =
  | { page: "home" }
  | { page: "sae"; saeId: string }
  | { page: "feature"; saeId: string; index: number }
  | { page: "family"; id: string }
  | { page: "search"; q: string; mode: string; saeId: string }
  | { page: "lists" }
  | { page: "list"; id: string }
  | { page: "jobs" }
  | { page: "graphs" }
  | { page: "graph"; slug: string }
  | { page: "notfound" };

export function parseRoute(pathname: string, search: string): Route {
  const seg = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const qs = new URLSearchParams(search);
  if (seg.length === 0) return { page: "home" };
  if (seg[0] === "sae" && seg.length === 2) return { page: "sae", saeId: seg[1] };
  if (seg[0] === "sae" && seg.length === 4 && seg[2] === "features" && /^\d+$/.test(seg[3])) return { page: "feature", saeId: seg[1], index: Number(seg[3]) };
  if (seg[0] === "families" && seg.length === 2) return { page: "family", id: seg[1] };
  if (seg[0] === "search" && seg.length === 1) return { page: "search", q: qs.get("q") ?? "", mode: qs.get("mode") ?? "HYBRID", saeId: qs.get("sae") ?? "" };
  if (seg[0] === "lists" && seg.length === 1) return { page: "lists" };
  if (seg[0] === "lists" && seg.length === 2) return { page: "list", id: seg[1] };
  if (seg[0] === "jobs" && seg.length === 1) return { page: "jobs" };
  if (seg[0] === "graphs" && seg.length === 1) return { page: "graphs" };
  if (seg[0] === "graphs" && seg.length === 2) return { page: "graph", slug: seg[1] };
  return { page: "notfound" };
}

const enc = encodeURIComponent;
export const paths = {
  sae: (saeId: string) => `/sae/${enc(saeId)}`,
  feature: (saeId: string, index: number) => `/sae/${enc(saeId)}/features/${index}`,
  family: (id: string) => `/families/${enc(id)}`,
  list: (id: string) => `/lists/${enc(id)}`,
  graph: (slug: string) => `/graphs/${enc(slug)}`,
  search: (q: string, mode = "HYBRID", saeId = "") => `/search?${new URLSearchParams({ q, ...(mode !== "HYBRID" ? { mode } : {}), ...(saeId ? { sae: saeId } : {}) })}`,
};

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new PopStateEvent("popstate"));
  if (!replace) window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.pathname, location.search));
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return route;
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className}>
      {children}
    </a>
  );
}
