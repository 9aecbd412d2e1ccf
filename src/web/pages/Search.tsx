// Concept search: mode and filters in the URL, label plus matched snippet, arrow keys move
// through the results and Enter opens one. Mode TEXT searches by text instead: the features most
// active anywhere in the typed text (searchByText), with the token where each peaks.
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { gqlRequest } from "../api";
import { graphql } from "../gql";
import type { SearchMode } from "../gql/graphql";
import { useLoad } from "../hooks";
import { Link, navigate, paths } from "../router";

const SearchQuery = graphql(`
  query ExplorerSearch($q: String!, $mode: SearchMode, $saeIds: [ID!]) {
    searchConcepts(query: $q, k: 30, mode: $mode, saeIds: $saeIds) {
      score matchedText
      feature { id index label density sae { id } }
    }
  }
`);
const SaesQuery = graphql(`query ExplorerSaeIds { saes { id } }`);
const TextSearchQuery = graphql(`
  query ExplorerSearchByText($text: String!, $saeIds: [ID!]!) {
    searchByText(text: $text, saeIds: $saeIds, k: 30) {
      maxActivation tokenIndex
      feature { id index label density sae { id } }
    }
  }
`);

type Hit = { score: number; matchedText?: string | null; feature: { id: string; index: number; label?: string | null; sae: { id: string } } };

/** searchByText reads at most this many SAEs (the server's limit). */
const TEXT_SEARCH_SAES = 16;

export function SearchPage({ q, mode, saeId }: { q: string; mode: string; saeId: string }) {
  const [text, setText] = useState(q);
  const [active, setActive] = useState(0);
  const list = useRef<HTMLOListElement>(null);
  const saes = useLoad(() => gqlRequest(SaesQuery, {}), []);
  const byText = mode === "TEXT";
  const res = useLoad((): Promise<Hit[]> => {
    if (!q) return Promise.resolve([]);
    if (!byText) return gqlRequest(SearchQuery, { q, mode: mode as SearchMode, saeIds: saeId ? [saeId] : null }).then((r) => r.searchConcepts);
    const ids = saeId ? Promise.resolve([saeId]) : gqlRequest(SaesQuery, {}).then((r) => r.saes.map((s) => s.id).slice(0, TEXT_SEARCH_SAES));
    return ids.then((saeIds) => gqlRequest(TextSearchQuery, { text: q, saeIds })).then((r) =>
      r.searchByText.map((h) => ({ score: h.maxActivation, matchedText: `strongest at token ${h.tokenIndex}`, feature: h.feature })),
    );
  }, [q, mode, saeId]);
  useEffect(() => { setText(q); setActive(0); }, [q, mode, saeId]);
  const hits = res.data ?? [];
  const focusAt = (i: number) => {
    const at = Math.max(0, Math.min(hits.length - 1, i));
    setActive(at);
    list.current?.querySelectorAll("a")[at]?.focus();
  };
  // Arrow keys move the focus through the hits; Enter on a focused hit follows its link.
  const onKey = (e: KeyboardEvent) => {
    if (!hits.length || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    focusAt(active + (e.key === "ArrowDown" ? 1 : -1));
  };
  return (
    <>
      <h1>{byText ? "Search by text" : "Concept search"}</h1>
      <form role="search" className="searchbox" onSubmit={(e) => { e.preventDefault(); navigate(paths.search(text.trim(), mode, saeId)); }}>
        <label htmlFor="q">{byText ? "Text" : "Query"}</label>
        <input id="q" type="search" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => { if (e.key === "ArrowDown" && hits.length) { e.preventDefault(); focusAt(0); } }} />
        <label htmlFor="mode">Mode</label>
        <select id="mode" value={mode} onChange={(e) => navigate(paths.search(text.trim(), e.target.value, saeId), true)}>
          <option>HYBRID</option><option>SEMANTIC</option><option>LEXICAL</option><option value="TEXT">TEXT (features active on the text)</option>
        </select>
        <label htmlFor="sae-filter">SAE</label>
        <select id="sae-filter" value={saeId} onChange={(e) => navigate(paths.search(text.trim(), mode, e.target.value), true)}>
          <option value="">all</option>
          {saes.data?.saes.map((s) => <option key={s.id} value={s.id}>{s.id}</option>)}
        </select>
        <button type="submit">Search</button>
      </form>
      {res.error && <p role="alert">{res.error}</p>}
      {q && res.data && <p className="muted" role="status">{hits.length} results · ↑/↓ to move, Enter to open</p>}
      <ol className="hits" ref={list} onKeyDown={onKey}>
        {hits.map((h, i) => (
          <li key={h.feature.id} className={i === active ? "active" : ""}>
            <Link to={paths.feature(h.feature.sae.id, h.feature.index)}>{h.feature.sae.id} #{h.feature.index}: {h.feature.label ?? "(no label)"}</Link>
            <span className="num"> {h.score.toFixed(3)}</span>
            {h.matchedText && h.matchedText !== h.feature.label && <div className="snippet">{h.matchedText}</div>}
          </li>
        ))}
      </ol>
    </>
  );
}
