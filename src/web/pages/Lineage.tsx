// Split lineage up (parents in smaller SAEs) and down (children in larger SAEs), as a tree.
import { useState } from "react";
import { gqlRequest } from "../api";
import { Badge } from "../components/Badge";
import { graphql } from "../gql";
import { useLoad } from "../hooks";
import { Link, paths } from "../router";

graphql(`
  fragment LineageFields on LineageNode {
    cosine coactivation split origin
    feature { index label sae { id dSae } }
  }
`);
const LineageQuery = graphql(`
  query ExplorerLineage($saeId: ID!, $index: Int!) {
    splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {
      ...LineageFields
      parents { ...LineageFields parents { ...LineageFields } }
      children { ...LineageFields children { ...LineageFields } }
    }
  }
`);

export interface TreeNode {
  cosine?: number | null;
  coactivation?: number | null;
  split: string;
  origin: string;
  feature: { index: number; label?: string | null; sae: { id: string; dSae: number } };
  parents?: TreeNode[];
  children?: TreeNode[];
}

export function NodeLine({ n }: { n: TreeNode }) {
  return (
    <>
      <Link to={paths.feature(n.feature.sae.id, n.feature.index)}>{n.feature.sae.id} #{n.feature.index}</Link> <Badge kind={n.split} /> <Badge kind={n.origin} />{" "}
      <span className="muted">{n.feature.label ?? ""}</span>
      {n.cosine != null && <span className="num"> cos {n.cosine.toFixed(3)}</span>}
      {n.coactivation != null && <span className="num"> co-act {n.coactivation.toFixed(2)}</span>}
    </>
  );
}

export function Lineage({ saeId, index }: { saeId: string; index: number }) {
  const { data, error } = useLoad(() => gqlRequest(LineageQuery, { saeId, index }), [saeId, index]);
  const root = data?.splitLineage as TreeNode | null | undefined;
  return (
    <section className="panel wide" aria-labelledby="lineage-h">
      <h2 id="lineage-h">Split lineage</h2>
      {error && <p role="alert">{error}</p>}
      {data && !root && <p className="muted">This SAE has no family lineage.</p>}
      {root && (
        <>
          <h3>Up: parents in smaller SAEs</h3>
          {root.parents?.length ? <ParentTree nodes={root.parents} /> : <p className="muted">None (smallest SAE or NOVEL).</p>}
          <p className="this-node">This feature: <NodeLine n={root} /></p>
          <h3>Down: children in larger SAEs</h3>
          {root.children?.length ? <ChildTree nodes={root.children} /> : <p className="muted">None (largest SAE or VANISHED).</p>}
        </>
      )}
    </section>
  );
}

export const ParentTree = ({ nodes }: { nodes: TreeNode[] }) => <Walk nodes={nodes} dir="parents" />;
export const ChildTree = ({ nodes }: { nodes: TreeNode[] }) => <Walk nodes={nodes} dir="children" />;

/** Shows the strongest few edges per node; the rest stay one click away. */
function Walk({ nodes, dir }: { nodes: TreeNode[]; dir: "parents" | "children" }) {
  const [all, setAll] = useState(false);
  if (!nodes.length) return null;
  const shown = all ? nodes : nodes.slice(0, 6);
  return (
    <ul className="tree" data-dir={dir}>
      {shown.map((n, i) => (
        <li key={i}>
          <NodeLine n={n} />
          <Walk nodes={n[dir] ?? []} dir={dir} />
        </li>
      ))}
      {nodes.length > shown.length && (
        <li className="more"><button type="button" className="link" onClick={() => setAll(true)}>Show all {nodes.length}</button></li>
      )}
    </ul>
  );
}
