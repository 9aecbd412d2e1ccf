import { useState } from "react";
import { exportPoints, gqlRequest, type MapPoint } from "../api";
import { Histogram } from "../components/Chart";
import { type ColourBy, FeatureMap } from "../components/FeatureMap";
import { graphql } from "../gql";
import type { ExplorerMapKindsQuery } from "../gql/graphql";
import { fmt, pct, useLoad } from "../hooks";
import { Link, navigate, paths } from "../router";

const SaeQuery = graphql(`
  query ExplorerSae($id: ID!) {
    sae(id: $id) {
      id name architecture hookName layer dIn dSae featureCount neuronpediaId
      model { id name }
      family { id name }
      stats { deadFraction medianDensity neuronAlignedFraction labeledFraction densityHistogram(bins: 40) { deadCount unknownCount bins { log10Min log10Max count } } }
    }
  }
`);

const MatchQuery = graphql(`
  query ExplorerMapMatches($q: String!, $saeId: ID!) {
    searchConcepts(query: $q, saeIds: [$saeId], k: 50, mode: HYBRID) { feature { index } }
  }
`);

const KindsQuery = graphql(`
  query ExplorerMapKinds($saeId: ID!, $after: String) {
    features(saeId: $saeId, first: 1000, after: $after) { edges { node { index splitKind originKind } } pageInfo { hasNextPage endCursor } }
  }
`);

/** Split kind where the feature has one in a larger SAE, else its origin kind (the largest SAE). */
async function loadKinds(saeId: string): Promise<Map<number, string>> {
  const kinds = new Map<number, string>();
  for (let after: string | null = null; ; ) {
    const r: ExplorerMapKindsQuery = await gqlRequest(KindsQuery, { saeId, after });
    for (const { node } of r.features.edges) {
      const k = node.splitKind && node.splitKind !== "LARGEST" ? node.splitKind : node.originKind;
      if (k) kinds.set(node.index, k);
    }
    if (!r.features.pageInfo.hasNextPage) return kinds;
    after = r.features.pageInfo.endCursor ?? null;
  }
}

export function SaePage({ saeId }: { saeId: string }) {
  const sae = useLoad(() => gqlRequest(SaeQuery, { id: saeId }), [saeId]);
  const [partial, setPartial] = useState<MapPoint[] | null>(null);
  const loaded = useLoad(() => exportPoints(saeId, setPartial), [saeId]);
  const points = { error: loaded.error, data: loaded.data ?? partial };
  const [colourBy, setColourBy] = useState<ColourBy>("density");
  const [q, setQ] = useState("");
  const [matches, setMatches] = useState<Set<number>>(new Set());
  const kinds = useLoad(() => (colourBy === "kind" ? loadKinds(saeId) : Promise.resolve(null)), [saeId, colourBy === "kind"]);
  const s = sae.data?.sae;
  if (sae.error) return <p role="alert">{sae.error}</p>;
  if (sae.data && !s) return <p role="alert">No SAE {saeId}.</p>;
  return (
    <>
      <h1>{saeId}</h1>
      {/* The same block while the SAE loads, so the map below never moves when it arrives. */}
      <p className="muted">
        {s ? s.model.name : "…"}
        {s?.family && <> · family <Link to={paths.family(s.family.id)}>{s.family.name}</Link></>}
        {s?.neuronpediaId && <> · Neuronpedia {s.neuronpediaId}</>}
      </p>
      <dl className="stats" aria-busy={!s}>
        <div><dt>Features</dt><dd>{s ? s.featureCount : "…"}</dd></div>
        <div><dt>Dead fraction</dt><dd>{s ? pct(s.stats.deadFraction) : "…"}</dd></div>
        <div><dt>Median density</dt><dd>{s ? fmt(s.stats.medianDensity) : "…"}</dd></div>
        <div><dt>Neuron-aligned</dt><dd>{s ? pct(s.stats.neuronAlignedFraction) : "…"}</dd></div>
        <div><dt>Labelled</dt><dd>{s ? pct(s.stats.labeledFraction) : "…"}</dd></div>
        <div><dt>Architecture</dt><dd>{s ? s.architecture : "…"}</dd></div>
        <div><dt>Hook</dt><dd>{s ? `${s.hookName ?? "–"}${s.layer != null ? ` (layer ${s.layer})` : ""}` : "…"}</dd></div>
        <div><dt>d_in × d_sae</dt><dd>{s ? `${s.dIn} × ${s.dSae}` : "…"}</dd></div>
      </dl>
      <section>
        <h2>Map</h2>
        <form
          className="map-controls"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!q.trim()) return setMatches(new Set());
            const r = await gqlRequest(MatchQuery, { q: q.trim(), saeId });
            setMatches(new Set(r.searchConcepts.map((h) => h.feature.index)));
          }}
        >
          <label htmlFor="map-colour">Colour by</label>
          <select id="map-colour" value={colourBy} onChange={(e) => setColourBy(e.target.value as ColourBy)}>
            <option value="density">density</option>
            <option value="kind">split / origin kind</option>
          </select>
          <label htmlFor="map-search">Highlight</label>
          <input id="map-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="concept" />
          <button type="submit">Highlight</button>
          {matches.size > 0 && <span className="muted">{matches.size} matches</span>}
        </form>
        {points.error && <p role="alert">{points.error}</p>}
        {points.data && <FeatureMap points={points.data} complete={!!loaded.data} colourBy={colourBy} kinds={kinds.data ?? undefined} highlight={matches} onOpen={(i) => navigate(paths.feature(saeId, i))} />}
        {points.data && (
          <details>
            <summary>Features as a list ({points.data.length})</summary>
            <ul className="columns">
              {points.data.slice(0, 500).map((p) => (
                <li key={p.index}><Link to={paths.feature(saeId, p.index)}>#{p.index}</Link> {p.label ?? ""}</li>
              ))}
            </ul>
          </details>
        )}
      </section>
      <section>
        <h2>Density histogram</h2>
        {s?.stats.densityHistogram ? (
          <>
            <Histogram title="Features per log10(density) bin" values={s.stats.densityHistogram.bins.map((b) => (b.log10Min + b.log10Max) / 2)} heights={s.stats.densityHistogram.bins.map((b) => b.count)} xLabel="log10 density" />
            <p className="muted">{s.stats.densityHistogram.deadCount} dead, {s.stats.densityHistogram.unknownCount} unknown.</p>
          </>
        ) : (
          <p className="muted">No densities stored.</p>
        )}
      </section>
    </>
  );
}
