// Attribution graphs: the list (/graphs), one graph (/graphs/<slug>) drawn as layers × token
// positions with a pruning slider (nodeThreshold) and, for the selected logit, its strongest paths
// from the prompt and its mediators; and the feature page's "Attribution graphs" panel.
import { useState } from "react";
import { gqlRequest } from "../api";
import { GraphDiagram, NEGATIVE, POSITIVE } from "../components/GraphDiagram";
import { graphql } from "../gql";
import { fmt, useLoad } from "../hooks";
import { Link, paths } from "../router";

const graphPath = paths.graph;

const GraphQuery = graphql(`
  query ExplorerGraph($slug: ID!, $nodeThreshold: Float, $minEdgeWeight: Float) {
    graph(slug: $slug, nodeThreshold: $nodeThreshold, minEdgeWeight: $minEdgeWeight) {
      slug prompt promptTokens modelId nodeCount linkCount
      nodes { nodeId kind layer ctxIdx influence activation tokenProb label feature { index sae { id } } }
      links { source target weight }
    }
  }
`);

const CircuitQuery = graphql(`
  query ExplorerGraphCircuit($slug: ID!, $target: ID!) {
    graphPaths(slug: $slug, to: $target, k: 5) { weight nodes { nodeId kind label ctxIdx } }
    graphMediators(slug: $slug, target: $target, k: 5) { indirectEffect directFromPrompt node { nodeId label feature { index sae { id } } } }
  }
`);

const GraphsQuery = graphql(`
  query ExplorerGraphs { graphs(first: 50) { slug prompt modelId nodeCount linkCount } }
`);

const SameModelGraphsQuery = graphql(`
  query ExplorerSameModelGraphs($modelId: ID!) { graphs(modelId: $modelId, first: 200) { slug prompt } }
`);

const CompareQuery = graphql(`
  query ExplorerCompareGraphs($a: ID!, $b: ID!) {
    compareGraphs(a: $a, b: $b) {
      sharedCount onlyInACount onlyInBCount
      shared(first: 20, orderBy: DIFFERENCE) { layer featureIndex positionsA positionsB influenceA influenceB influenceDelta nodeA { nodeId label } }
      onlyInA(first: 10) { nodeId label influence }
      onlyInB(first: 10) { nodeId label influence }
    }
  }
`);

const FeatureGraphsQuery = graphql(`
  query ExplorerFeatureGraphs($saeId: ID!, $index: Int!) {
    feature(saeId: $saeId, index: $index) { id graphs(first: 20) { graph { slug prompt modelId } node { nodeId ctxIdx influence } } }
  }
`);

export function GraphsPage() {
  const { data, error } = useLoad(() => gqlRequest(GraphsQuery, {}), []);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading graphs…</p>;
  return (
    <>
      <h1>Attribution graphs</h1>
      {data.graphs.length === 0 ? <p className="muted">None stored. Import one with <code>monoscope ingest graph file.json</code>.</p> : (
        <ul className="cards">
          {data.graphs.map((g) => (
            <li key={g.slug} className="card">
              <Link to={graphPath(g.slug)}>{g.slug}</Link>
              <p className="mono">{g.prompt}</p>
              <p className="muted">{g.modelId} · {g.nodeCount} nodes · {g.linkCount} links</p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const NO_PRUNING = 1;

export function GraphPage({ slug }: { slug: string }) {
  const [threshold, setThreshold] = useState(NO_PRUNING);
  const [chosen, setChosen] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<string[]>([]);
  const [minWeight, setMinWeight] = useState("");
  const minEdgeWeight = minWeight.trim() === "" || !Number.isFinite(Number(minWeight)) ? null : Number(minWeight);
  const { data, error } = useLoad(
    () => gqlRequest(GraphQuery, { slug, nodeThreshold: threshold >= NO_PRUNING ? null : threshold, minEdgeWeight }),
    [slug, threshold, minEdgeWeight],
  );
  const g = data?.graph;
  const logits = (g?.nodes ?? []).filter((n) => n.kind === "LOGIT").sort((a, b) => (b.tokenProb ?? 0) - (a.tokenProb ?? 0));
  const target = chosen ?? logits[0]?.nodeId ?? null;
  return (
    <>
      <p className="crumbs"><Link to="/">Home</Link> › <Link to="/graphs">Graphs</Link> › {slug}</p>
      <h1>{slug}</h1>
      {g && <p className="muted"><span className="mono">{g.prompt}</span> · {g.modelId} · showing {g.nodes.length} of {g.nodeCount} nodes, {g.links.length} of {g.linkCount} links</p>}
      <div className="map-controls">
        <label htmlFor="node-threshold">Prune: keep nodes with influence ≤</label>
        <input id="node-threshold" type="range" min={0.05} max={NO_PRUNING} step={0.05} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))}
          aria-valuetext={threshold >= NO_PRUNING ? "no pruning" : threshold.toFixed(2)} />
        <output htmlFor="node-threshold">{threshold >= NO_PRUNING ? "all nodes" : threshold.toFixed(2)}</output>
        <label htmlFor="min-edge-weight">min |link weight|</label>
        <input id="min-edge-weight" type="number" min={0} step="any" value={minWeight} onChange={(e) => setMinWeight(e.target.value)} style={{ width: "7rem" }} />
        <label htmlFor="target-logit">Logit</label>
        <select id="target-logit" value={target ?? ""} onChange={(e) => { setChosen(e.target.value); setHighlight([]); }}>
          {logits.map((l) => <option key={l.nodeId} value={l.nodeId}>{l.label || l.nodeId}{l.tokenProb != null && !l.label?.includes("p=") ? ` (p=${fmt(l.tokenProb)})` : ""}</option>)}
        </select>
      </div>
      {error && <p role="alert">{error}</p>}
      {!data && !error && <p aria-busy="true">Loading graph…</p>}
      {data && !g && <p role="alert">No graph {slug}.</p>}
      {g && <>
      <p className="muted legend">
        <span style={{ color: POSITIVE }}>━ positive</span> · <span style={{ color: NEGATIVE }}>━ negative</span> link (width ∝ |weight|) · ● feature · ■ error · ◆ embedding / logit. Features linked to a stored SAE feature open its page.
      </p>
      <div className="scroll panel" data-testid="graph-diagram">
        <GraphDiagram nodes={g.nodes} links={g.links} tokens={g.promptTokens} highlight={highlight} />
      </div>
      {target && <Circuit slug={slug} target={target} tokens={g.promptTokens} highlight={highlight} onHighlight={setHighlight} />}
      <Compare slug={slug} modelId={g.modelId} />
      </>}
    </>
  );
}

/** compareGraphs against another graph of the same model: shared features by change of influence, and those one graph alone uses. */
function Compare({ slug, modelId }: { slug: string; modelId: string }) {
  const others = useLoad(() => gqlRequest(SameModelGraphsQuery, { modelId }), [modelId]);
  const [other, setOther] = useState("");
  const cmp = useLoad(() => (other ? gqlRequest(CompareQuery, { a: slug, b: other }) : Promise.resolve(null)), [slug, other]);
  const choices = (others.data?.graphs ?? []).filter((x) => x.slug !== slug);
  const c = cmp.data?.compareGraphs;
  const only = (title: string, nodes: Array<{ nodeId: string; label?: string | null; influence?: number | null }>, count: number) => (
    <div>
      <h3>{title} ({count})</h3>
      {nodes.length === 0 ? <p className="muted">None.</p> : (
        <ul>{nodes.map((n) => <li key={n.nodeId}>{n.label || n.nodeId} <span className="muted">influence {fmt(n.influence ?? null)}</span></li>)}</ul>
      )}
    </div>
  );
  return (
    <section className="panel" aria-labelledby="compare-h">
      <h2 id="compare-h">Compare with another graph of {modelId}</h2>
      {choices.length === 0 ? <p className="muted">No other graph of this model is stored.</p> : (
        <div className="map-controls">
          <label htmlFor="compare-with">Compare with</label>
          <select id="compare-with" value={other} onChange={(e) => setOther(e.target.value)}>
            <option value="">(choose a graph)</option>
            {choices.map((x) => <option key={x.slug} value={x.slug}>{x.slug} · {x.prompt}</option>)}
          </select>
        </div>
      )}
      {cmp.error && <p role="alert">{cmp.error}</p>}
      {c && (
        <>
          <p data-testid="compare-summary">{c.sharedCount} features in both · {c.onlyInACount} only in this graph · {c.onlyInBCount} only in {other}</p>
          <table>
            <caption>Shared features, largest change of influence first (smaller influence = more important)</caption>
            <thead><tr><th scope="col">Feature</th><th scope="col">Layer / index</th><th scope="col">Influence here</th><th scope="col">In {other}</th><th scope="col">Change</th><th scope="col">Positions</th></tr></thead>
            <tbody>
              {c.shared.map((f) => (
                <tr key={`${f.layer}/${f.featureIndex}`}>
                  <td>{f.nodeA.label || f.nodeA.nodeId}</td>
                  <td className="mono">{f.layer} / {f.featureIndex}</td>
                  <td>{fmt(f.influenceA ?? null)}</td>
                  <td>{fmt(f.influenceB ?? null)}</td>
                  <td>{f.influenceDelta == null ? "–" : (f.influenceDelta > 0 ? "+" : "") + fmt(f.influenceDelta)}</td>
                  <td>{f.positionsA} / {f.positionsB}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="columns">
            {only("Only in this graph", c.onlyInA, c.onlyInACount)}
            {only(`Only in ${other}`, c.onlyInB, c.onlyInBCount)}
          </div>
        </>
      )}
    </section>
  );
}

type PathNode = { nodeId: string; kind: string; label?: string | null; ctxIdx: number };

/** A node as a reader knows it: its label, the prompt token of an embedding, or its id. */
function nodeName(n: PathNode, tokens: string[]): string {
  if (n.label) return n.label;
  if (n.kind === "EMBEDDING" && tokens[n.ctxIdx] !== undefined) return `“${tokens[n.ctxIdx]}”@${n.ctxIdx}`;
  return n.nodeId;
}

function Circuit({ slug, target, tokens, highlight, onHighlight }: { slug: string; target: string; tokens: string[]; highlight: string[]; onHighlight: (ids: string[]) => void }) {
  const { data, error } = useLoad(() => gqlRequest(CircuitQuery, { slug, target }), [slug, target]);
  const current = highlight.join(">");
  return (
    <div className="grid">
      <section className="panel" aria-labelledby="paths-h">
        <h2 id="paths-h">Strongest paths from the prompt to {target}</h2>
        {error && <p role="alert">{error}</p>}
        {!data && !error && <p aria-busy="true">Loading…</p>}
        {data && data.graphPaths.length === 0 && <p className="muted">No path from an embedding within 6 links.</p>}
        {data && (
          <ol className="neighbours" data-testid="graph-paths">
            {data.graphPaths.map((p) => {
              const ids = p.nodes.map((n) => n.nodeId);
              const on = ids.join(">") === current;
              return (
                <li key={ids.join(">")}>
                  <span className={`num ${p.weight >= 0 ? "pos" : "neg"}`}>{p.weight.toPrecision(3)}</span>{" "}
                  <button type="button" className="linkish" aria-pressed={on} onClick={() => onHighlight(on ? [] : ids)}>{on ? "hide" : "show"}</button>{" "}
                  <span className="path-text">{p.nodes.map((n) => nodeName(n, tokens)).join(" → ")}</span>
                </li>
              );
            })}
          </ol>
        )}
        <p className="muted">Weight: the product of normalised link weights A(s→t) = w ÷ Σ|w into t| along the path.</p>
      </section>
      <section className="panel" aria-labelledby="mediators-h">
        <h2 id="mediators-h">Mediators of {target}</h2>
        {data && (
          <table data-testid="graph-mediators">
            <thead><tr><th scope="col">Feature node</th><th scope="col">Indirect effect</th><th scope="col">From prompt</th></tr></thead>
            <tbody>
              {data.graphMediators.map((m) => (
                <tr key={m.node.nodeId}>
                  <td>{m.node.feature ? <Link to={paths.feature(m.node.feature.sae.id, m.node.feature.index)}>{m.node.nodeId}</Link> : <span className="mono">{m.node.nodeId}</span>} <span className="muted">{m.node.label ?? ""}</span></td>
                  <td className={`num ${m.indirectEffect >= 0 ? "pos" : "neg"}`}>{m.indirectEffect.toPrecision(3)}</td>
                  <td className="num">{(m.directFromPrompt * 100).toFixed(0)}%</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted">A large indirect effect with little input from the prompt marks a concept the model computes but the prompt never states.</p>
      </section>
    </div>
  );
}

/** The feature page's list of the graphs a feature appears in. */
export function FeatureGraphs({ saeId, index }: { saeId: string; index: number }) {
  const { data, error } = useLoad(() => gqlRequest(FeatureGraphsQuery, { saeId, index }), [saeId, index]);
  const rows = data?.feature?.graphs ?? [];
  return (
    <section className="panel" aria-labelledby="feature-graphs-h">
      <h2 id="feature-graphs-h">Attribution graphs</h2>
      {error && <p role="alert">{error}</p>}
      {!data && !error && <p aria-busy="true">Loading…</p>}
      {data && rows.length === 0 && <p className="muted">In no stored graph.</p>}
      {rows.length > 0 && (
        <ul className="neighbours" data-testid="feature-graphs">
          {rows.map((a) => (
            <li key={`${a.graph.slug}:${a.node.nodeId}`}>
              <Link to={graphPath(a.graph.slug)}>{a.graph.slug}</Link> <span className="muted">node {a.node.nodeId} at position {a.node.ctxIdx}{a.node.influence != null ? `, influence ${fmt(a.node.influence)}` : ""}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
