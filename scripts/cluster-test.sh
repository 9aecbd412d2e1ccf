# cluster-test.sh — the failure drill of `scripts/cluster.sh test` (sourced by cluster.sh, which
# defines the ports, URLs and start/stop functions used here). Ends with the cluster down.
STARTED=$(date +%s)
TOOL=(node "$REPO_DIR/bin/run-ts.js" "$REPO_DIR/scripts/cluster-tool.ts")
SAE=cluster-toy/2-res
fail() {
    log "FAILED: $*"
    exit 1
}
trap 'cmd_down' EXIT

metric_sum() { # metric_sum NAME LABEL_FILTER: summed over both API replicas
    local total=0 port v
    for port in "$P_API1" "$P_API2"; do
        v=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | awk -v m="$1" -v f="$2" 'index($0, m "{") == 1 && index($0, f) { s += $NF } END { printf "%d", s }')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

graphql() { # graphql QUERY-JSON
    curl -fsS -H 'content-type: application/json' --data "$1" "$LB_URL/graphql"
}

cmd_up

log "1/6 ingest a synthetic SAE on the primary (2,000 features, d_in 64)"
rm -rf "$ROOT/ckpt"
"${TOOL[@]}" checkpoint "$ROOT/ckpt" --features 2000 --d 64
# Bulk loads use session features (COPY, a per-SAE advisory lock, session_replication_role): the
# CLI connects to the primary itself, not through the transaction-mode pooler.
(cd "$REPO_DIR" && DATABASE_URL=$PRIMARY_URL MONOSCOPE_DATA_DIR=$ROOT/cli MONOSCOPE_LOG_LEVEL=warn node bin/monoscope.js ingest saelens "$ROOT/ckpt" --sae "$SAE" --replace) >"$ROOT/log/ingest.log" 2>&1 ||
    { tail -n 20 "$ROOT/log/ingest.log" >&2; fail "ingest"; }
"${TOOL[@]}" wait-replay --primary "$PRIMARY_URL" --standby "$STANDBY_URL"

log "2/6 reads through the balancer are served by the standby"
before=$(metric_sum monoscope_read_statements_total 'target="replica"')
for i in $(seq 1 20); do
    out=$(graphql "{\"query\":\"{ feature(saeId: \\\"$SAE\\\", index: $i) { index neighbors(k: 3) { cosine } } }\"}") || fail "query $i through the balancer"
    [[ $out == *"\"index\":$i"* ]] || fail "query $i answered $out"
done
after=$(metric_sum monoscope_read_statements_total 'target="replica"')
((after > before)) || fail "no read statement reached the standby ($before -> $after)"
log "    $((after - before)) read statements ran on the standby"

log "3/6 traffic through the balancer (feature pages; labels written and read back with Monoscope-LSN)"
rm -f "$ROOT/stop" "$ROOT/load.json"
"${TOOL[@]}" load --url "$LB_URL" --sae "$SAE" --stop "$ROOT/stop" --out "$ROOT/load.json" >"$ROOT/log/load.log" 2>&1 &
LOAD_PID=$!
sleep 4

log "4/6 SIGKILL the standby: reads move to the primary"
kill -KILL "$(head -n1 "$ROOT/standby/postmaster.pid")"
sleep 5
fallback=$(metric_sum monoscope_read_statements_total 'target="primary"')
log "    reads served by the primary so far: $fallback"

log "5/6 SIGKILL API replica 1: HAProxy routes around it"
kill -KILL "$(cat "$ROOT/run/api1.pid")"
sleep 5

log "6/6 restart both, let traffic reach them again"
start_pg "$ROOT/standby"
start_api 1 "$P_API1"
for i in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$P_API1/readyz" | grep -q '"state":"up"' && break
    sleep 0.5
done
sleep 4
touch "$ROOT/stop"
wait "$LOAD_PID" || fail "the load generator exited with an error (log: $ROOT/log/load.log)"
cat "$ROOT/load.json" >&2
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (s.failed !== 0) { console.error(`${s.failed} of ${s.requests} requests failed`); process.exit(1); }
if (s.staleReads !== 0) { console.error(`${s.staleReads} reads after a write did not see it`); process.exit(1); }
if (s.requests < 100 || s.readYourWrites < 5) { console.error("too little traffic to judge"); process.exit(1); }
' "$ROOT/load.json" || fail "traffic during the drill"
served=$(metric_sum monoscope_read_statements_total 'target="replica"')
log "    0 failed requests; read statements on the standby in all: $served"

log "checking that nothing was lost: row counts and checksums, primary vs standby"
"${TOOL[@]}" wait-replay --primary "$PRIMARY_URL" --standby "$STANDBY_URL"
"${TOOL[@]}" checksums --url "$PRIMARY_URL" >"$ROOT/primary.sums"
"${TOOL[@]}" checksums --url "$STANDBY_URL" >"$ROOT/standby.sums"
cmp -s "$ROOT/primary.sums" "$ROOT/standby.sums" || { diff <(tr ',' '\n' <"$ROOT/primary.sums") <(tr ',' '\n' <"$ROOT/standby.sums") >&2; fail "primary and standby differ"; }
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const rows = Object.values(s).reduce((a, t) => a + t.rows, 0);
console.error(`[cluster]     ${Object.keys(s).length} tables, ${rows} rows, equal on both (explanation: ${s.explanation?.rows}, feature: ${s.feature?.rows})`);
' "$ROOT/primary.sums"
log "PASSED in $(($(date +%s) - STARTED)) s"
