// The feature page's text panels: "test your text" (this feature's activation on each token of a
// typed text, shaded like the examples) and where the feature's examples come from (Feature.sources).
import { useState } from "react";
import { gqlRequest } from "../api";
import { Tokens } from "../components/Tokens";
import { graphql } from "../gql";
import { fmt, useLoad } from "../hooks";

const TestTextQuery = graphql(`
  query ExplorerTestText($saeId: ID!, $index: Int!, $text: String!) {
    activateText(saeId: $saeId, text: $text, k: 1) { tokens { token } }
    feature(saeId: $saeId, index: $index) { id activationsOnText(text: $text) }
  }
`);
const SourcesQuery = graphql(`
  query ExplorerFeatureSources($saeId: ID!, $index: Int!) {
    feature(saeId: $saeId, index: $index) { id sources { source examples maxActivation } }
  }
`);

type Result = { tokens: string[]; values: number[] };

export function TestText({ saeId, index, scale }: { saeId: string; index: number; scale: number }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const r = await gqlRequest(TestTextQuery, { saeId, index, text });
      setResult({ tokens: r.activateText.tokens.map((t) => t.token), values: r.feature?.activationsOnText ?? [] });
    } catch (e) {
      setResult(null);
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const max = result ? Math.max(0, ...result.values) : 0;
  return (
    <section className="panel wide" aria-labelledby="test-text-h">
      <h2 id="test-text-h">Test your text</h2>
      <form className="test-text" onSubmit={(e) => { e.preventDefault(); void run(); }}>
        <label htmlFor="test-text">Text to run through the model</label>
        <textarea id="test-text" rows={2} value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" disabled={busy || !text.trim()}>{busy ? "Running…" : "Run"}</button>
      </form>
      {error && <p role="alert">{error}</p>}
      {result && (
        <div data-testid="test-text-result" role="status">
          <Tokens ex={{ tokens: result.tokens, values: result.values, maxValue: max, maxTokenIndex: max > 0 ? result.values.indexOf(max) : -1 }} scale={scale > 0 ? scale : max} />
          <p className="muted">{max > 0 ? `max ${fmt(max)} on ${JSON.stringify(result.tokens[result.values.indexOf(max)])}` : "The feature does not fire on this text."}</p>
        </div>
      )}
    </section>
  );
}

export function FeatureSources({ saeId, index }: { saeId: string; index: number }) {
  const { data, error } = useLoad(() => gqlRequest(SourcesQuery, { saeId, index }), [saeId, index]);
  const rows = data?.feature?.sources ?? [];
  return (
    <section className="panel" aria-labelledby="sources-h">
      <h2 id="sources-h">Where it fires, by source</h2>
      {error && <p role="alert">{error}</p>}
      {data && rows.length === 0 && <p className="muted">No example records a source.</p>}
      {rows.length > 0 && (
        <table>
          {rows.length > 20 && <caption className="muted">{rows.length} sources; the 20 strongest shown</caption>}
          <thead><tr><th scope="col">source</th><th scope="col">examples</th><th scope="col">max activation</th></tr></thead>
          <tbody>{rows.slice(0, 20).map((r) => <tr key={r.source}><td className="mono">{r.source}</td><td className="num">{r.examples}</td><td className="num">{fmt(r.maxActivation)}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}
