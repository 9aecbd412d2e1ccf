import { useState } from "react";
import { navigate, paths } from "../router";

export function SearchBox({ initial = "", saeId = "" }: { initial?: string; saeId?: string }) {
  const [q, setQ] = useState(initial);
  return (
    <form
      role="search"
      className="searchbox"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) navigate(paths.search(q.trim(), "HYBRID", saeId));
      }}
    >
      <label htmlFor="concept-search">Search concepts</label>
      <input id="concept-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. animals, colours, past tense" />
      <button type="submit">Search</button>
    </form>
  );
}
