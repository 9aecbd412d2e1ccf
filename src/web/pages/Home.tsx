import { gqlRequest } from "../api";
import { graphql } from "../gql";
import { fmt, pct, useLoad } from "../hooks";
import { Link, paths } from "../router";
import { SearchBox } from "./SearchBox";

const HomeQuery = graphql(`
  query ExplorerHome {
    models { id name dModel }
    families { id name model { id } saes { id dSae } }
    saes {
      id name architecture hookName dIn dSae featureCount
      model { id }
      family { id }
      stats { deadFraction medianDensity labeledFraction }
    }
  }
`);

export function Home() {
  const { data, error } = useLoad(() => gqlRequest(HomeQuery, {}), []);
  return (
    <>
      <h1>Monoscope Explorer</h1>
      <p className="lede">Sparse-autoencoder features: labels, activations, decoder geometry and split lineage across dictionary sizes.</p>
      <SearchBox />
      {error && <p role="alert">{error}</p>}
      {data && (
        <>
          <h2>Models</h2>
          <ul className="cards">
            {data.models.map((m) => (
              <li key={m.id} className="card">
                <strong>{m.name}</strong> <span className="muted">d_model {m.dModel}</span>
                <ul>
                  {data.families.filter((f) => f.model.id === m.id).map((f) => (
                    <li key={f.id}>
                      Family <Link to={paths.family(f.id)}>{f.name}</Link> <span className="muted">({f.saes.map((s) => s.dSae).join(" → ")})</span>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
          <h2>SAEs</h2>
          <div className="scroll">
            <table>
              <thead>
                <tr><th scope="col">SAE</th><th scope="col">Architecture</th><th scope="col">Hook</th><th scope="col">Features</th><th scope="col">Dead</th><th scope="col">Median density</th><th scope="col">Labelled</th></tr>
              </thead>
              <tbody>
                {data.saes.map((s) => (
                  <tr key={s.id}>
                    <td><Link to={paths.sae(s.id)}>{s.id}</Link></td>
                    <td>{s.architecture}</td>
                    <td>{s.hookName ?? "–"}</td>
                    <td>{s.featureCount}</td>
                    <td>{pct(s.stats.deadFraction)}</td>
                    <td>{fmt(s.stats.medianDensity)}</td>
                    <td>{pct(s.stats.labeledFraction)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
