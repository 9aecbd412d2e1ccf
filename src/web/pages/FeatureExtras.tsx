// The feature page's writable parts: its lists (and adding it to one), a human label, and
// "copy the GraphQL for this page".
import { useState } from "react";
import { gqlRequest, mutate } from "../api";
import { graphql } from "../gql";
import { useLoad } from "../hooks";
import { Link, paths } from "../router";

const ListsQuery = graphql(`
  query ExplorerFeatureLists($saeId: ID!, $index: Int!) {
    feature(saeId: $saeId, index: $index) { id splitKind originKind lists { id name } }
    lists { id name }
  }
`);
const CreateList = graphql(`
  mutation ExplorerCreateList($name: String!) { createList(name: $name) { id name } }
`);
const AddToList = graphql(`
  mutation ExplorerAddToList($listId: ID!, $saeId: ID!, $index: Int!, $note: String) { addToList(listId: $listId, saeId: $saeId, index: $index, note: $note) { id itemCount } }
`);
const AddLabel = graphql(`
  mutation ExplorerAddLabel($saeId: ID!, $index: Int!, $text: String!) { addExplanation(saeId: $saeId, index: $index, text: $text) { id text method } }
`);

export function CopyQuery({ query, saeId, index }: { query: string; saeId: string; index: number }) {
  const [done, setDone] = useState(false);
  const text = `${query.trim()}\n\n# variables\n${JSON.stringify({ saeId, index })}`;
  return (
    <button
      type="button"
      className="copy"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          window.prompt("Copy the GraphQL for this page:", text);
        }
        setDone(true);
      }}
    >
      {done ? "Copied" : "Copy the GraphQL for this page"}
    </button>
  );
}

export function FeatureExtras({ saeId, index }: { saeId: string; index: number }) {
  const { data, error, reload } = useLoad(() => gqlRequest(ListsQuery, { saeId, index }), [saeId, index]);
  const [listId, setListId] = useState("");
  const [newName, setNewName] = useState("");
  const [note, setNote] = useState("");
  const [label, setLabel] = useState("");
  const [msg, setMsg] = useState<string | null>(null);
  const run = (p: Promise<unknown>, ok: string) =>
    p.then(
      () => { setMsg(ok); reload(); },
      (e: unknown) => setMsg(e instanceof Error ? e.message : String(e)),
    );
  return (
    <>
      <section className="panel">
        <h2>Lists</h2>
        {error && <p role="alert">{error}</p>}
        {data?.feature && (
          <p>
            Lineage kinds: split <strong>{data.feature.splitKind ?? "–"}</strong>, origin <strong>{data.feature.originKind ?? "–"}</strong>
          </p>
        )}
        {data?.feature?.lists.length ? (
          <ul>{data.feature.lists.map((l) => <li key={l.id}><Link to={paths.list(l.id)}>{l.name}</Link></li>)}</ul>
        ) : (
          <p className="muted">On no list.</p>
        )}
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            const go = async () => {
              let id = listId;
              if (!id || id === "new") {
                if (!newName.trim()) throw new Error("name the new list");
                id = (await mutate(CreateList, { name: newName.trim() })).createList.id;
              }
              await mutate(AddToList, { listId: id, saeId, index, note: note.trim() || null });
              setListId(id);
            };
            run(go(), "Added to the list.");
          }}
        >
          <label htmlFor="list-pick">Add to list</label>
          <select id="list-pick" value={listId || "new"} onChange={(e) => setListId(e.target.value)}>
            <option value="new">New list…</option>
            {data?.lists.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
          {(!listId || listId === "new") && (
            <>
              <label htmlFor="list-name">New list name</label>
              <input id="list-name" value={newName} onChange={(e) => setNewName(e.target.value)} />
            </>
          )}
          <label htmlFor="list-note">Note</label>
          <input id="list-note" value={note} onChange={(e) => setNote(e.target.value)} />
          <button type="submit">Add</button>
        </form>
      </section>
      <section className="panel">
        <h2>Add a human label</h2>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (label.trim()) run(mutate(AddLabel, { saeId, index, text: label.trim() }).then(() => setLabel("")), "Label saved; reload to see it ranked.");
          }}
        >
          <label htmlFor="human-label">Label</label>
          <input id="human-label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={1000} />
          <button type="submit">Save label</button>
        </form>
        {msg && <p role="status">{msg}</p>}
      </section>
    </>
  );
}
