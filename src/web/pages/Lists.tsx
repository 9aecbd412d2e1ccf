import { useState } from "react";
import { gqlRequest, mutate } from "../api";
import { graphql } from "../gql";
import { useLoad } from "../hooks";
import { Link, navigate, paths } from "../router";

const ListsQuery = graphql(`query ExplorerLists { lists { id name description itemCount updatedAt } }`);
const ListQuery = graphql(`
  query ExplorerList($id: ID!) {
    list(id: $id) { id name description createdAt items { note addedAt feature { id index label density sae { id } } } }
  }
`);
const Remove = graphql(`mutation ExplorerRemoveFromList($listId: ID!, $saeId: ID!, $index: Int!) { removeFromList(listId: $listId, saeId: $saeId, index: $index) { id } }`);
const Delete = graphql(`mutation ExplorerDeleteList($id: ID!) { deleteList(id: $id) }`);

export function ListsPage() {
  const { data, error } = useLoad(() => gqlRequest(ListsQuery, {}), []);
  return (
    <>
      <h1>Lists</h1>
      {error && <p role="alert">{error}</p>}
      {data && data.lists.length === 0 && <p className="muted">No lists yet: add a feature to one from its page.</p>}
      <ul>{data?.lists.map((l) => <li key={l.id}><Link to={paths.list(l.id)}>{l.name}</Link> <span className="muted">{l.itemCount} features</span></li>)}</ul>
    </>
  );
}

export function ListPage({ id }: { id: string }) {
  const { data, error, reload } = useLoad(() => gqlRequest(ListQuery, { id }), [id]);
  const [msg, setMsg] = useState<string | null>(null);
  const l = data?.list;
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading list…</p>;
  if (!l) return <p role="alert">No list {id}.</p>;
  const fail = (e: unknown) => setMsg(e instanceof Error ? e.message : String(e));
  return (
    <>
      <p className="crumbs"><Link to="/lists">Lists</Link> › {l.name}</p>
      <h1>{l.name}</h1>
      {l.description && <p>{l.description}</p>}
      <p className="muted">Share this page's address to share the list.</p>
      <div className="scroll">
        <table>
          <thead><tr><th scope="col">Feature</th><th scope="col">Label</th><th scope="col">Note</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {l.items.map((it) => (
              <tr key={it.feature.id}>
                <td><Link to={paths.feature(it.feature.sae.id, it.feature.index)}>{it.feature.sae.id} #{it.feature.index}</Link></td>
                <td>{it.feature.label ?? "–"}</td>
                <td>{it.note ?? ""}</td>
                <td><button type="button" onClick={() => mutate(Remove, { listId: l.id, saeId: it.feature.sae.id, index: it.feature.index }).then(reload, fail)}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <button type="button" className="danger" onClick={() => { if (window.confirm(`Delete the list ${l.name}?`)) mutate(Delete, { id: l.id }).then(() => navigate("/lists"), fail); }}>Delete list</button>
      {msg && <p role="alert">{msg}</p>}
    </>
  );
}
