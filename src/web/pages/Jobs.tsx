import { gqlRequest } from "../api";
import { graphql } from "../gql";
import { useLoad } from "../hooks";
import { Link, paths } from "../router";

const JobsQuery = graphql(`
  query ExplorerJobs { jobs(first: 50) { id kind status total done failed error saeId model costUsd createdAt finishedAt } }
`);

export function JobsPage() {
  const { data, error, reload } = useLoad(() => gqlRequest(JobsQuery, {}), []);
  return (
    <>
      <h1>Jobs</h1>
      <button type="button" onClick={reload}>Refresh</button>
      {error && <p role="alert">{error}</p>}
      {data && data.jobs.length === 0 && <p className="muted">No jobs yet (monoscope explain / score / embed queue them).</p>}
      {data && data.jobs.length > 0 && (
        <div className="scroll">
          <table>
            <thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">SAE</th><th scope="col">Model</th><th scope="col">Cost</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {data.jobs.map((j) => (
                <tr key={j.id}>
                  <td className="mono">{j.id.slice(0, 8)}</td><td>{j.kind}</td><td>{j.status}{j.error && <div className="muted">{j.error}</div>}</td>
                  <td>{j.done}/{j.total}{j.failed ? ` (${j.failed} failed)` : ""}</td>
                  <td>{j.saeId ? <Link to={paths.sae(j.saeId)}>{j.saeId}</Link> : "–"}</td>
                  <td>{j.model ?? "–"}</td><td>${j.costUsd.toFixed(4)}</td><td>{j.createdAt.slice(0, 19).replace("T", " ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
