import { useState } from "react";
import { gqlRequest } from "../api";
import { Badge } from "../components/Badge";
import { Chart } from "../components/Chart";
import { graphql } from "../gql";
import { useLoad } from "../hooks";
import { Link, paths } from "../router";
import { ChildTree, type TreeNode } from "./Lineage";

const FamilyQuery = graphql(`
  query ExplorerFamilies {
    families { id name model { id name } saes { id dSae }
      scaling { dSae featureCount stable split vanished inherited novel unclassified medianDensity medianDensityNovel medianDensityInherited sae { id } }
    }
  }
`);
const RootsQuery = graphql(`
  query ExplorerForestRoots($saeId: ID!) {
    features(saeId: $saeId, first: 30, orderBy: DENSITY_DESC) { edges { node { index label splitKind } } }
  }
`);
const SubtreeQuery = graphql(`
  query ExplorerSubtree($saeId: ID!, $index: Int!) {
    splitLineage(saeId: $saeId, index: $index, direction: DOWN, depth: 2, minCosine: 0.5) {
      ...LineageFields
      children { ...LineageFields children { ...LineageFields } }
    }
  }
`);

export function FamilyPage({ id }: { id: string }) {
  const { data, error } = useLoad(() => gqlRequest(FamilyQuery, {}), [id]);
  const fam = data?.families.find((f) => f.id === id);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading family…</p>;
  if (!fam) return <p role="alert">No family {id}.</p>;
  const rows = fam.scaling;
  const x = rows.map((r) => r.dSae);
  const last = rows.length - 1;
  return (
    <>
      <h1>Family {fam.name}</h1>
      <p className="muted">{fam.model.name} · {fam.saes.map((s) => <Link key={s.id} to={paths.sae(s.id)}>{s.dSae} </Link>)}</p>
      <div className="grid">
        <section className="panel">
          <h2>How features continue into the next size</h2>
          <Chart title="Features per SAE size (the largest has no next size)" x={x} xLabel="d_sae" logX series={[
            { label: "stable", values: rows.map((r, i) => (i < last ? r.stable : null)), color: "#1b7a3a" },
            { label: "split", values: rows.map((r, i) => (i < last ? r.split : null)), color: "#8a2be2" },
            { label: "vanished", values: rows.map((r, i) => (i < last ? r.vanished : null)), color: "#d43030" },
          ]} />
        </section>
        <section className="panel">
          <h2>Median density, NOVEL vs INHERITED</h2>
          <Chart title="Median density (log axis)" x={x} xLabel="d_sae" logX logY series={[
            { label: "novel", values: rows.map((r) => r.medianDensityNovel ?? null), color: "#e08000" },
            { label: "inherited", values: rows.map((r) => r.medianDensityInherited ?? null), color: "#305a9c" },
          ]} />
        </section>
        <section className="panel wide">
          <h2>Scaling table</h2>
          <div className="scroll">
            <table>
              <thead><tr><th scope="col">SAE</th><th scope="col">Features</th><th scope="col">Stable</th><th scope="col">Split</th><th scope="col">Vanished</th><th scope="col">Inherited</th><th scope="col">Novel</th><th scope="col">Unclassified</th></tr></thead>
              <tbody>{rows.map((r) => <tr key={r.sae.id}><td><Link to={paths.sae(r.sae.id)}>{r.sae.id}</Link></td><td>{r.featureCount}</td><td>{r.stable}</td><td>{r.split}</td><td>{r.vanished}</td><td>{r.inherited}</td><td>{r.novel}</td><td>{r.unclassified}</td></tr>)}</tbody>
            </table>
          </div>
        </section>
        {fam.saes[0] && <Forest saeId={fam.saes[0].id} />}
      </div>
    </>
  );
}

function Forest({ saeId }: { saeId: string }) {
  const { data, error } = useLoad(() => gqlRequest(RootsQuery, { saeId }), [saeId]);
  return (
    <section className="panel wide">
      <h2>Lineage forest from {saeId} (densest 30 features)</h2>
      {error && <p role="alert">{error}</p>}
      {data?.features.edges.map(({ node }) => <Root key={node.index} saeId={saeId} index={node.index} label={node.label ?? ""} split={node.splitKind} />)}
    </section>
  );
}

/** One root of the forest; its subtree in the larger SAEs loads when it is opened. */
function Root({ saeId, index, label, split }: { saeId: string; index: number; label: string; split?: string | null }) {
  const [open, setOpen] = useState(false);
  const sub = useLoad(() => (open ? gqlRequest(SubtreeQuery, { saeId, index }) : Promise.resolve(null)), [open]);
  const root = sub.data?.splitLineage as TreeNode | null | undefined;
  return (
    <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>#{index} {label} <Badge kind={split} /></summary>
      {open && !root && <p className="muted">{sub.error ?? "Loading…"}</p>}
      {root && <ChildTree nodes={[root]} />}
    </details>
  );
}
