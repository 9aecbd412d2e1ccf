#!/usr/bin/env bash
# cluster.sh — a real Monoscope deployment on one machine, all on loopback:
#
#   PostgreSQL 15 primary ──streaming──▶ hot standby (pg_basebackup -R)
#        ▲ PgBouncer (transaction mode)        ▲ reads (DATABASE_READ_URLS)
#        └──────────── two `monoscope serve` API replicas ◀── HAProxy (health checks, retries)
#
# Usage:
#   scripts/cluster.sh up   --root DIR [--base-port N]   install what is missing, start everything
#   scripts/cluster.sh down --root DIR                   stop everything (data stays in DIR)
#   scripts/cluster.sh test --root DIR [--base-port N]   up, then the failure drill (below), then down
#   scripts/cluster.sh status --root DIR                 what runs, with its pid and port
#   scripts/cluster.sh check                             install what is missing; exit 1 if the servers' user cannot read the checkout
#
# Ports from N (default 55400): primary N, standby N+1, PgBouncer N+2, API replicas N+3 and N+4,
# HAProxy N+5 (its stats page N+6; N+7 balances onto replica 1 alone, for the benchmarks; N+8 routes
# by SAE: a consistent hash of the Monoscope-SAE request header). As root, the servers run as the system user "monoscope"
# (created if missing); otherwise as the invoking user.
#
# test: ingests a synthetic SAE on the primary, then sends GraphQL traffic through HAProxy
# (feature pages, and labels written with read-your-writes checks) while it SIGKILLs the standby
# (reads move to the primary), SIGKILLs one API replica (HAProxy routes around it and retries: no
# request may fail), restarts both, and compares row counts and per-table checksums on primary
# and standby. docs/deploy.md explains the topology.
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
PG_BIN=${MONOSCOPE_PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_USER=monoscope

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

CMD=${1:-}
shift || true
ROOT=""
BASE=55400
while (($#)); do
    case $1 in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --base-port) BASE=${2:?--base-port needs a number}; shift 2 ;;
    *) die "unknown option $1 (expected --root DIR, --base-port N)" ;;
    esac
done
[[ $CMD =~ ^(up|down|test|status|check)$ ]] || die "usage: $0 up|down|test|status|check --root DIR [--base-port N]"
[[ -n $ROOT || $CMD == check ]] || die "--root DIR is required"
[[ -n $ROOT ]] || ROOT=$(mktemp -d)
[[ $BASE =~ ^[0-9]+$ ]] && ((BASE > 1024 && BASE < 65500)) || die "--base-port must be a number between 1025 and 65499"
mkdir -p -- "$ROOT"
ROOT=$(cd -- "$ROOT" && pwd -P)

P_PRIMARY=$BASE P_STANDBY=$((BASE + 1)) P_BOUNCER=$((BASE + 2)) P_API1=$((BASE + 3)) P_API2=$((BASE + 4))
P_LB=$((BASE + 5)) P_STATS=$((BASE + 6)) P_LB1=$((BASE + 7)) P_LB_SAE=$((BASE + 8))
PRIMARY_URL=postgresql://postgres@127.0.0.1:$P_PRIMARY/monoscope
STANDBY_URL=postgresql://postgres@127.0.0.1:$P_STANDBY/monoscope
BOUNCER_URL=postgresql://postgres@127.0.0.1:$P_BOUNCER/monoscope
LB_URL=http://127.0.0.1:$P_LB
LB_SAE_URL=http://127.0.0.1:$P_LB_SAE

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# Runs a command as the servers' user; exec's in place (setpriv), so $! of a backgrounded call is the server's pid.
as_user() {
    if ((IS_ROOT)); then
        setpriv --reuid "$RUN_USER" --regid "$RUN_USER" --init-groups env HOME="$ROOT" "$@"
    else
        "$@"
    fi
}

ensure_installed() {
    # PostgreSQL 15 and pgvector exactly as the test cluster gets them.
    bash "$SCRIPT_DIR/setup-postgres.sh" install
    local pkgs=()
    command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || pkgs+=(pgbouncer)
    command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || pkgs+=(haproxy)
    if ((${#pkgs[@]})); then
        ((IS_ROOT)) || die "missing ${pkgs[*]}: run as root (apt-get) or install them"
        log "apt-get install ${pkgs[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get -q -y update >/dev/null
        # policy-rc.d keeps the packages' own system services from starting: this cluster runs its own.
        local had_policy=0
        [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
        if ((!had_policy)); then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
        fi
        DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "${pkgs[@]}" >/dev/null || {
            ((had_policy)) || rm -f /usr/sbin/policy-rc.d
            die "apt-get install ${pkgs[*]} failed"
        }
        ((had_policy)) || rm -f /usr/sbin/policy-rc.d
    fi
    if ((IS_ROOT)) && ! id "$RUN_USER" >/dev/null 2>&1; then
        log "creating system user $RUN_USER"
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    fi
}

PGBOUNCER=$(command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer)
HAPROXY=$(command -v haproxy 2>/dev/null || echo /usr/sbin/haproxy)

pg_conf() { # pg_conf PORT
    cat <<EOF
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$ROOT/run'
max_connections = 100
shared_buffers = '256MB'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
log_min_messages = warning
timezone = 'UTC'
EOF
}

start_pg() { # start_pg DATADIR
    local dir=$1 i
    # After a SIGKILL the old server's children may still hold its shared memory for a moment.
    for i in $(seq 1 30); do
        if as_user "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 -s </dev/null >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    tail -n 20 "$dir/server.log" >&2 || true
    die "PostgreSQL in $dir did not start"
}

pg_running() { [[ -f $1/postmaster.pid ]] && kill -0 "$(head -n1 "$1/postmaster.pid")" 2>/dev/null; }

psql_at() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$1" -c "$2"; }

up_postgres() {
    mkdir -p "$ROOT/run" "$ROOT/log"
    ((IS_ROOT)) && chown "$RUN_USER:" "$ROOT" "$ROOT/run" "$ROOT/log"
    if [[ ! -f $ROOT/primary/PG_VERSION ]]; then
        log "initialising the primary in $ROOT/primary"
        as_user "$PG_BIN/initdb" -D "$ROOT/primary" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$ROOT/log/initdb.log" 2>&1 ||
            { tail -n 20 "$ROOT/log/initdb.log" >&2; die "initdb failed"; }
        pg_conf "$P_PRIMARY" | as_user tee -a "$ROOT/primary/postgresql.conf" >/dev/null
        printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' | as_user tee "$ROOT/primary/pg_hba.conf" >/dev/null
    fi
    pg_running "$ROOT/primary" || { log "starting the primary on 127.0.0.1:$P_PRIMARY"; start_pg "$ROOT/primary"; }
    if [[ -z $(psql_at "postgresql://postgres@127.0.0.1:$P_PRIMARY/postgres" "SELECT 1 FROM pg_database WHERE datname = 'monoscope'") ]]; then
        psql_at "postgresql://postgres@127.0.0.1:$P_PRIMARY/postgres" "CREATE DATABASE monoscope" >/dev/null
        psql_at "$PRIMARY_URL" "CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null
    fi
    if [[ ! -f $ROOT/standby/PG_VERSION ]]; then
        log "making the hot standby with pg_basebackup"
        as_user "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$P_PRIMARY" -U postgres -D "$ROOT/standby" -R -X stream -c fast
        printf "port = %s\n" "$P_STANDBY" | as_user tee -a "$ROOT/standby/postgresql.conf" >/dev/null
    fi
    pg_running "$ROOT/standby" || { log "starting the standby on 127.0.0.1:$P_STANDBY"; start_pg "$ROOT/standby"; }
}

up_pgbouncer() {
    mkdir -p "$ROOT/pgbouncer"
    printf '"postgres" ""\n' >"$ROOT/pgbouncer/users.txt"
    # Transaction mode: a server connection per transaction. PgBouncer 1.18 (Debian 12) cannot keep
    # named prepared statements across them, so the API replicas run with MONOSCOPE_PREPARED_STATEMENTS=off.
    cat >"$ROOT/pgbouncer/pgbouncer.ini" <<EOF
[databases]
monoscope = host=127.0.0.1 port=$P_PRIMARY dbname=monoscope
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $P_BOUNCER
unix_socket_dir =
auth_type = trust
auth_file = $ROOT/pgbouncer/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
logfile = $ROOT/log/pgbouncer.log
pidfile = $ROOT/run/pgbouncer.pid
EOF
    ((IS_ROOT)) && chown -R "$RUN_USER:" "$ROOT/pgbouncer"
    if ! { [[ -f $ROOT/run/pgbouncer.pid ]] && kill -0 "$(cat "$ROOT/run/pgbouncer.pid")" 2>/dev/null; }; then
        log "starting PgBouncer on 127.0.0.1:$P_BOUNCER (transaction mode)"
        as_user "$PGBOUNCER" -d "$ROOT/pgbouncer/pgbouncer.ini" || die "PgBouncer did not start (log: $ROOT/log/pgbouncer.log)"
    fi
}

api_env() { # api_env N
    printf '%s\n' "DATABASE_URL=$BOUNCER_URL" "DATABASE_READ_URLS=$STANDBY_URL" "MONOSCOPE_PREPARED_STATEMENTS=off" \
        "MONOSCOPE_DATA_DIR=$ROOT/api$1" "MONOSCOPE_REPLICA_CHECK_MS=500" "MONOSCOPE_RATE_LIMIT_PER_MINUTE=0" "MONOSCOPE_LOG_LEVEL=warn" \
        ${MONOSCOPE_MATRIX_CACHE_BYTES:+"MONOSCOPE_MATRIX_CACHE_BYTES=$MONOSCOPE_MATRIX_CACHE_BYTES"}
}

api_running() { [[ -f $ROOT/run/api$1.pid ]] && kill -0 "$(cat "$ROOT/run/api$1.pid")" 2>/dev/null; }

start_api() { # start_api N PORT
    local n=$1 port=$2 i
    api_running "$n" && return 0
    mkdir -p "$ROOT/api$n"
    ((IS_ROOT)) && chown "$RUN_USER:" "$ROOT/api$n"
    log "starting API replica $n on 127.0.0.1:$port"
    local cmd=(node bin/monoscope.js serve --port "$port" --host 127.0.0.1)
    ((IS_ROOT)) && cmd=(setpriv --reuid "$RUN_USER" --regid "$RUN_USER" --init-groups "${cmd[@]}")
    # Every step exec's, so the recorded pid is the server's own (the drill SIGKILLs it).
    # shellcheck disable=SC2046
    (cd "$REPO_DIR" && exec env HOME="$ROOT/api$n" $(api_env "$n") "${cmd[@]}" </dev/null >>"$ROOT/log/api$n.log" 2>&1) &
    echo $! >"$ROOT/run/api$n.pid"
    disown $! 2>/dev/null || true
    for i in $(seq 1 120); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
        api_running "$n" || { tail -n 20 "$ROOT/log/api$n.log" >&2; die "API replica $n exited (log: $ROOT/log/api$n.log)"; }
        sleep 0.5
    done
    die "API replica $n did not become ready on port $port (log: $ROOT/log/api$n.log)"
}

up_haproxy() {
    mkdir -p "$ROOT/haproxy"
    # Health checks every second on /readyz; a failed connection or an empty answer is retried on the
    # other replica (redispatch), so a replica killed mid-request costs no client an error.
    cat >"$ROOT/haproxy/haproxy.cfg" <<EOF
global
    maxconn 2000
    pidfile $ROOT/run/haproxy.pid
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
    option http-keep-alive
frontend monoscope
    bind 127.0.0.1:$P_LB
    default_backend api
backend api
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    timeout check 3s
    default-server inter 1s fall 2 rise 2 maxconn 64
    server api1 127.0.0.1:$P_API1 check
    server api2 127.0.0.1:$P_API2 check
# SAE-affinity routing (docs/deploy.md): the same replicas, chosen by a consistent hash of the SAE
# id the client sends in a header, so each replica caches the decoder matrices of a subset of the
# SAEs (a replica that leaves moves only its own SAEs); requests without the header go round robin.
frontend monoscope_by_sae
    bind 127.0.0.1:$P_LB_SAE
    default_backend api_by_sae
backend api_by_sae
    balance hdr(Monoscope-SAE)
    hash-type consistent
    option httpchk GET /readyz
    http-check expect status 200
    timeout check 3s
    default-server inter 1s fall 2 rise 2 maxconn 64
    server api1 127.0.0.1:$P_API1 check
    server api2 127.0.0.1:$P_API2 check
# One replica behind the same balancer: the benchmarks' baseline for scaling out.
frontend monoscope_one
    bind 127.0.0.1:$P_LB1
    default_backend api_one
backend api_one
    option httpchk GET /readyz
    http-check expect status 200
    timeout check 3s
    server api1 127.0.0.1:$P_API1 check inter 1s
listen stats
    bind 127.0.0.1:$P_STATS
    stats enable
    stats uri /
EOF
    ((IS_ROOT)) && chown -R "$RUN_USER:" "$ROOT/haproxy"
    "$HAPROXY" -c -q -f "$ROOT/haproxy/haproxy.cfg" || die "HAProxy rejected $ROOT/haproxy/haproxy.cfg"
    if ! { [[ -f $ROOT/run/haproxy.pid ]] && kill -0 "$(cat "$ROOT/run/haproxy.pid")" 2>/dev/null; }; then
        log "starting HAProxy on 127.0.0.1:$P_LB"
        as_user "$HAPROXY" -D -f "$ROOT/haproxy/haproxy.cfg" || die "HAProxy did not start"
    fi
}

# As root the servers run as $RUN_USER, who must be able to read the checkout (a clone under a
# private folder such as /root is not readable by other users).
check_access() {
    ((IS_ROOT)) || return 0
    as_user test -r "$REPO_DIR/bin/monoscope.js" -a -r "$REPO_DIR/node_modules/.package-lock.json" ||
        die "the servers run as the user $RUN_USER, who cannot read $REPO_DIR (a folder above it is private): put the checkout where $RUN_USER can read it (e.g. under /srv or /opt), or run this script as a non-root user"
}

cmd_up() {
    ensure_installed
    check_access
    ((IS_ROOT)) && chown "$RUN_USER:" "$ROOT"
    up_postgres
    up_pgbouncer
    # The first replica applies the migrations (through PgBouncer: they take a transaction-level lock).
    start_api 1 "$P_API1"
    start_api 2 "$P_API2"
    up_haproxy
    printf 'LB_URL=%s\nLB_SAE_URL=%s\nPRIMARY_URL=%s\nSTANDBY_URL=%s\nBOUNCER_URL=%s\n' "$LB_URL" "$LB_SAE_URL" "$PRIMARY_URL" "$STANDBY_URL" "$BOUNCER_URL" >"$ROOT/cluster.env"
    log "up: balancer $LB_URL/graphql (stats http://127.0.0.1:$P_STATS/), primary :$P_PRIMARY, standby :$P_STANDBY, PgBouncer :$P_BOUNCER, API :$P_API1 :$P_API2"
}

stop_pidfile() { # stop_pidfile FILE [SIGNAL]
    local f=$1 sig=${2:-TERM} pid i
    [[ -f $f ]] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f -- "$f"
}

cmd_down() {
    stop_pidfile "$ROOT/run/haproxy.pid"
    stop_pidfile "$ROOT/run/api1.pid"
    stop_pidfile "$ROOT/run/api2.pid"
    stop_pidfile "$ROOT/run/pgbouncer.pid"
    local d
    for d in standby primary; do
        pg_running "$ROOT/$d" && as_user "$PG_BIN/pg_ctl" stop -D "$ROOT/$d" -m fast -w -t 60 -s >/dev/null 2>&1 || true
    done
    log "down (data kept in $ROOT)"
}

cmd_status() {
    local name f
    for name in haproxy api1 api2 pgbouncer; do
        f=$ROOT/run/$name.pid
        if [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: stopped"; fi
    done
    for name in primary standby; do
        if pg_running "$ROOT/$name"; then echo "$name: running (pid $(head -n1 "$ROOT/$name/postmaster.pid"))"; else echo "$name: stopped"; fi
    done
}

case $CMD in
check) ensure_installed; check_access; rmdir -- "$ROOT" 2>/dev/null || true; log "ready: everything is installed and $REPO_DIR is readable by the servers' user" ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
test) source "$SCRIPT_DIR/cluster-test.sh" ;;
esac
