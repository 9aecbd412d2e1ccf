// The Monoscope Explorer: a browser app fed only by the public API (/graphql, /export).
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { createRoot } from "react-dom/client";
import { FamilyPage } from "./pages/Family";
import { FeaturePage } from "./pages/Feature";
import { GraphPage, GraphsPage } from "./pages/Graph";
import { Home } from "./pages/Home";
import { JobsPage } from "./pages/Jobs";
import { ListPage, ListsPage } from "./pages/Lists";
import { SaePage } from "./pages/Sae";
import { SearchPage } from "./pages/Search";
import { Link, type Route, useRoute } from "./router";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "home": return <Home />;
    case "sae": return <SaePage saeId={route.saeId} />;
    case "feature": return <FeaturePage saeId={route.saeId} index={route.index} />;
    case "family": return <FamilyPage id={route.id} />;
    case "search": return <SearchPage q={route.q} mode={route.mode} saeId={route.saeId} />;
    case "lists": return <ListsPage />;
    case "list": return <ListPage id={route.id} />;
    case "jobs": return <JobsPage />;
    case "graphs": return <GraphsPage />;
    case "graph": return <GraphPage slug={route.slug} />;
    default: return <><h1>Not found</h1><p>No page at this address. <Link to="/">Home</Link></p></>;
  }
}

function App() {
  const route = useRoute();
  const key = route.page === "feature" ? `${route.saeId}/${route.index}` : JSON.stringify(route);
  return (
    <>
      <header className="top">
        <nav aria-label="Main">
          <Link to="/" className="brand">Monoscope</Link>
          <Link to="/search?q=">Search</Link>
          <Link to="/lists">Lists</Link>
          <Link to="/jobs">Jobs</Link>
          <Link to="/graphs">Graphs</Link>
          <a href="/graphiql">GraphiQL</a>
        </nav>
      </header>
      <main key={key}>
        <Page route={route} />
      </main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(<App />);
