import { useMemo, useState } from "react";
import { exportPoints, gqlRequest } from "../api";
import { Histogram } from "../components/Chart";
import { type ColourBy, FeatureMap } from "../components/FeatureMap";
import { graphql } from "../gql";
import { fmt, pct, useLoad } from "../hooks";
import { Link, navigate, paths } from "../router";

const SaeQuery = graphql(`
  query ExplorerSae($id: ID!) {
    sae(id: $id) {
      id name architecture hookName layer dIn dSae featureCount neuronpediaId
      model { id name }
      family { id name }
      stats { deadFraction medianDensity neuronAlignedFraction labeledFraction }
    }
  }
`);

const MatchQuery = graphql(`
  query ExplorerMapMatches($q: String!, $saeId: ID!) {
    searchConcepts(query: $q, saeIds: [$saeId], k: 100, mode: LEXICAL) { feature { index } }
  }
`);

/** Log-spaced density histogram computed from the map's own points. */
function densityBins(ds: (number | null)[]): { values: number[]; heights: number[] } {
  const logs = ds.filter((d): d is number => d != null && d > 0).map((d) => Math.log10(d));
  if (!logs.length) return { values: [], heights: [] };
  const lo = Math.floor(Math.min(...logs)), hi = Math.ceil(Math.max(...logs)) || lo + 1;
  const n = Math.max(1, (hi - lo) * 4);
  const heights = new Array(n).fill(0);
  for (const l of logs) heights[Math.min(n - 1, Math.floor(((l - lo) / (hi - lo || 1)) * n))]++;
  return { values: heights.map((_, i) => lo + ((i + 0.5) * (hi - lo)) / n), heights };
}

export function SaePage({ saeId }: { saeId: string }) {
  const sae = useLoad(() => gqlRequest(SaeQuery, { id: saeId }), [saeId]);
  const points = useLoad(() => exportPoints(saeId), [saeId]);
  const [colourBy, setColourBy] = useState<ColourBy>("density");
  const [q, setQ] = useState("");
  const [matches, setMatches] = useState<Set<number>>(new Set());
  const hist = useMemo(() => densityBins(points.data?.map((p) => p.density) ?? []), [points.data]);
  const s = sae.data?.sae;
  if (sae.error) return <p role="alert">{sae.error}</p>;
  if (sae.data && !s) return <p role="alert">No SAE {saeId}.</p>;
  return (
    <>
      <h1>{saeId}</h1>
      {s && (
        <>
          <p className="muted">
            {s.model.name}
            {s.family && <> · family <Link to={paths.family(s.family.id)}>{s.family.name}</Link></>}
            {s.neuronpediaId && <> · Neuronpedia {s.neuronpediaId}</>}
          </p>
          <dl className="stats">
            <div><dt>Features</dt><dd>{s.featureCount}</dd></div>
            <div><dt>Dead fraction</dt><dd>{pct(s.stats.deadFraction)}</dd></div>
            <div><dt>Median density</dt><dd>{fmt(s.stats.medianDensity)}</dd></div>
            <div><dt>Neuron-aligned</dt><dd>{pct(s.stats.neuronAlignedFraction)}</dd></div>
            <div><dt>Labelled</dt><dd>{pct(s.stats.labeledFraction)}</dd></div>
            <div><dt>Architecture</dt><dd>{s.architecture}</dd></div>
            <div><dt>Hook</dt><dd>{s.hookName ?? "–"}{s.layer != null ? ` (layer ${s.layer})` : ""}</dd></div>
            <div><dt>d_in × d_sae</dt><dd>{s.dIn} × {s.dSae}</dd></div>
          </dl>
        </>
      )}
      <section>
        <h2>Density histogram</h2>
        <Histogram title="Features per log10(density) bin" values={hist.values} heights={hist.heights} xLabel="log10 density" />
      </section>
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
        {points.data && <FeatureMap points={points.data} colourBy={colourBy} highlight={matches} onOpen={(i) => navigate(paths.feature(saeId, i))} />}
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
    </>
  );
}
