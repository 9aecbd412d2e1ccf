import { gqlRequest } from "../api";
import { Histogram } from "../components/Chart";
import { Tokens } from "../components/Tokens";
import { graphql } from "../gql";
import { fmt, useLoad } from "../hooks";
import { Link, paths } from "../router";
import { CopyQuery, FeatureExtras } from "./FeatureExtras";
import { FeatureGraphs } from "./Graph";
import { Lineage } from "./Lineage";

export const FeatureQuery = graphql(`
  query ExplorerFeature($saeId: ID!, $index: Int!) {
    feature(saeId: $saeId, index: $index) {
      id index label density maxActivation
      sae { id dSae model { id saes { id } } family { id } }
      explanations { id text method explainerModel quality createdAt scores { kind metric value } }
      topActivations(first: 40) { kind tokens values maxValue maxTokenIndex binMin binMax }
      logits { positive { token value } negative { token value } }
      histograms { activationDensity { values heights } logits { values heights } }
      neuronAlignment { neuron cosine }
      neighbors(k: 10) { cosine feature { id index label sae { id } } }
    }
  }
`);

const CrossQuery = graphql(`
  query ExplorerCrossNeighbours($saeId: ID!, $index: Int!, $saeIds: [ID!]) {
    nearestFeatures(saeId: $saeId, index: $index, k: 10, saeIds: $saeIds) { cosine feature { id index label sae { id } } }
  }
`);

type Neighbour = { cosine: number; feature: { index: number; label?: string | null; sae: { id: string } } };

function Neighbours({ title, rows }: { title: string; rows: Neighbour[] }) {
  return (
    <section className="panel">
      <h2>{title}</h2>
      {rows.length === 0 ? <p className="muted">None.</p> : (
        <ol className="neighbours">
          {rows.map((n) => (
            <li key={`${n.feature.sae.id}:${n.feature.index}`}>
              <span className="num">{n.cosine.toFixed(3)}</span> <Link to={paths.feature(n.feature.sae.id, n.feature.index)}>{n.feature.sae.id} #{n.feature.index}</Link> <span className="muted">{n.feature.label ?? ""}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function FeaturePage({ saeId, index }: { saeId: string; index: number }) {
  const { data, error } = useLoad(() => gqlRequest(FeatureQuery, { saeId, index }), [saeId, index]);
  const f = data?.feature;
  const others = f?.sae.model.saes.map((s) => s.id).filter((id) => id !== saeId) ?? [];
  const cross = useLoad(() => (others.length ? gqlRequest(CrossQuery, { saeId, index, saeIds: others }).then((r) => r.nearestFeatures) : Promise.resolve([])), [f?.id]);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading feature…</p>;
  if (!f) return <p role="alert">No feature {index} in {saeId}.</p>;
  const top = f.topActivations.filter((a) => a.kind === "TOP");
  const quant = f.topActivations.filter((a) => a.kind === "QUANTILE");
  const bins = new Map<string, typeof quant>();
  for (const q of quant) {
    const k = `${fmt(q.binMin)} – ${fmt(q.binMax)}`;
    bins.set(k, [...(bins.get(k) ?? []), q]);
  }
  const hasLogits = !!f.logits && f.logits.positive.length + f.logits.negative.length > 0;
  const scale = f.maxActivation ?? Math.max(0, ...top.map((t) => t.maxValue));
  return (
    <>
      <p className="crumbs"><Link to="/">Home</Link> › <Link to={paths.sae(saeId)}>{saeId}</Link> › feature {index}</p>
      <h1>{saeId} #{index}: {f.label ?? <span className="muted">no label</span>}</h1>
      <p className="muted">density {fmt(f.density)} · max activation {fmt(f.maxActivation)} {f.neuronAlignment && <>· closest neuron {f.neuronAlignment.neuron} (cosine {f.neuronAlignment.cosine.toFixed(3)})</>}</p>
      <CopyQuery query={FeatureQuery.toString()} saeId={saeId} index={index} />
      <div className="grid">
        <section className="panel wide">
          <h2>Labels</h2>
          {f.explanations.length === 0 ? <p className="muted">No labels yet.</p> : (
            <ul className="labels">
              {f.explanations.map((e) => (
                <li key={e.id}>
                  <strong>{e.text}</strong> <span className="tag">{e.method}</span>
                  {e.explainerModel && <span className="muted"> {e.explainerModel}</span>}
                  {e.quality != null && <span className="muted"> · quality {e.quality.toFixed(3)}</span>}
                  {e.scores.length > 0 && <span className="muted"> · {e.scores.map((s) => `${s.kind} ${s.metric} ${s.value.toFixed(3)}`).join(", ")}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel wide" aria-labelledby="top-h">
          <h2 id="top-h">Top activating examples</h2>
          <div className="examples" data-testid="activations">
            {top.map((a, i) => <Tokens key={i} ex={a} scale={scale} />)}
            {top.length === 0 && <p className="muted">None stored.</p>}
          </div>
          {bins.size > 0 && <h3>Quantile samples</h3>}
          {[...bins].map(([k, xs]) => (
            <details key={k} open={false}>
              <summary>Bin {k} ({xs.length})</summary>
              {xs.map((a, i) => <Tokens key={i} ex={a} scale={scale} />)}
            </details>
          ))}
        </section>
        <section className="panel">
          <h2>Histograms</h2>
          <Histogram title="Activation density" values={f.histograms?.activationDensity?.values ?? []} heights={f.histograms?.activationDensity?.heights ?? []} />
          <Histogram title="Logit effect" values={f.histograms?.logits?.values ?? []} heights={f.histograms?.logits?.heights ?? []} color="#8a5a00" />
        </section>
        <section className="panel">
          <h2>Top logits</h2>
          {hasLogits && <div className="logits">
            <table><caption>Positive</caption><tbody>{(f.logits?.positive ?? []).map((t, i) => <tr key={i}><td className="mono">{t.token}</td><td className="num pos">{t.value.toFixed(3)}</td></tr>)}</tbody></table>
            <table><caption>Negative</caption><tbody>{(f.logits?.negative ?? []).map((t, i) => <tr key={i}><td className="mono">{t.token}</td><td className="num neg">{t.value.toFixed(3)}</td></tr>)}</tbody></table>
          </div>}
          {!hasLogits && <p className="muted">None stored.</p>}
        </section>
        <Neighbours title="Nearest in this SAE" rows={f.neighbors} />
        {cross.data ? <Neighbours title="Nearest in the model's other SAEs" rows={cross.data} /> : <section className="panel"><h2>Nearest in the model's other SAEs</h2><p className="muted" aria-busy="true">{cross.error ?? "Loading…"}</p></section>}
        <Lineage saeId={saeId} index={index} />
        <FeatureExtras saeId={saeId} index={index} />
        <FeatureGraphs saeId={saeId} index={index} />
      </div>
    </>
  );
}
