#!/usr/bin/env bash
# setup-postgres.sh — throwaway PostgreSQL 15 cluster with pgvector + pg_trgm
# for Monoscope development and tests.
#
# Usage:
#   scripts/setup-postgres.sh [start]   install what is missing, start (or reuse)
#                                       the cluster, create database "monoscope"
#                                       with extensions vector + pg_trgm, and
#                                       print DATABASE_URL as the last stdout line
#   scripts/setup-postgres.sh stop      stop the cluster (pg_ctl stop -m fast)
#   scripts/setup-postgres.sh status    say whether the cluster runs (exit 0 if it does, 3 if not)
#   scripts/setup-postgres.sh url       print the DATABASE_URL of the cluster
#   scripts/setup-postgres.sh install   only install PostgreSQL 15 / pgvector if missing
#
#   export DATABASE_URL=$(bash scripts/setup-postgres.sh)
#
# Environment:
#   MONOSCOPE_PG_DIR            cluster directory (default: <repo>/.pgdata; falls back
#                               to /tmp/monoscope-pg-<hash> when the postgres user
#                               cannot reach it, e.g. repo under a 0700 home dir)
#   MONOSCOPE_PG_PORT           port to use (default: 54329 if free, else the next free one)
#   MONOSCOPE_PG_USER           OS user that runs the server when invoked as root (default: postgres)
#   MONOSCOPE_PG_SHARED_BUFFERS shared_buffers (default: 1GB)
#   MONOSCOPE_PG_BIN            PostgreSQL binaries (default: /usr/lib/postgresql/15/bin)
#
# Layout of the cluster directory:
#   data/          PGDATA            postgres.log   server log
#   run/           unix socket       database_url   the URL printed by start/url
#
# All progress output goes to stderr; stdout carries only the URL (start/url)
# or the status line (status).
set -euo pipefail

# Keep the real stdout on fd 3; everything else defaults to stderr.
exec 3>&1 1>&2
umask 022

PG_MAJOR=15
PG_BIN=${MONOSCOPE_PG_BIN:-/usr/lib/postgresql/${PG_MAJOR}/bin}
PG_CONFIG=$PG_BIN/pg_config
PG_USER=${MONOSCOPE_PG_USER:-postgres}
DB_NAME=monoscope
DB_ROLE=postgres
DEFAULT_PORT=54329
PGVECTOR_MIN_VERSION=0.7.0 # halfvec / sparsevec
SHARED_BUFFERS=${MONOSCOPE_PG_SHARED_BUFFERS:-1GB}

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(cd -- "$SCRIPT_DIR/.." && pwd -P)

log() { printf '[setup-postgres] %s\n' "$*" >&2; }
die() { printf '[setup-postgres] ERROR: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

TMP_PATHS=()
cleanup() {
    local p
    for p in "${TMP_PATHS[@]+"${TMP_PATHS[@]}"}"; do
        rm -rf -- "$p"
    done
}
trap cleanup EXIT

# Run a command as the server's OS user (postgres refuses to run as root).
as_pg() {
    if ((IS_ROOT)); then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

# Run a command as root (directly, or via sudo when available).
as_root() {
    if ((IS_ROOT)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -- "$@"
    else
        die "need root privileges to run: $* (run this script as root or install sudo)"
    fi
}

# ---------------------------------------------------------------------------
# Installation (only what is missing)
# ---------------------------------------------------------------------------

APT_UPDATED=0

# apt-get with its chatter captured; on failure show the tail of the log.
apt_get() {
    local logf rc=0
    logf=$(mktemp "${TMPDIR:-/tmp}/monoscope-apt.XXXXXX")
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
        -o DPkg::Lock::Timeout=600 "$@" >"$logf" 2>&1 || rc=$?
    if ((rc != 0)); then
        tail -n 40 "$logf" >&2
        die "'apt-get $*' failed with exit code $rc (full log: $logf)"
    fi
    rm -f -- "$logf"
}

apt_install() {
    if ((!APT_UPDATED)); then
        log "apt-get update"
        apt_get update
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    apt_get install --no-install-recommends "$@"
}

ensure_postgres_installed() {
    local missing=0 f
    for f in initdb pg_ctl postgres psql pg_config; do
        [[ -x $PG_BIN/$f ]] || missing=1
    done
    if ((missing)); then
        apt_install "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}"
        for f in initdb pg_ctl postgres psql pg_config; do
            [[ -x $PG_BIN/$f ]] || die "$PG_BIN/$f still missing after installing postgresql-${PG_MAJOR}"
        done
    fi
    local sharedir
    sharedir=$("$PG_CONFIG" --sharedir)
    if [[ ! -f $sharedir/extension/pg_trgm.control ]]; then
        # On Debian, contrib modules (pg_trgm) ship in postgresql-NN itself.
        apt_install "postgresql-${PG_MAJOR}" postgresql-contrib
        [[ -f $sharedir/extension/pg_trgm.control ]] ||
            die "pg_trgm is not available ($sharedir/extension/pg_trgm.control missing)"
    fi
}

# Installed pgvector version ("" if not installed).
pgvector_installed_version() {
    local sharedir pkglibdir control
    sharedir=$("$PG_CONFIG" --sharedir)
    pkglibdir=$("$PG_CONFIG" --pkglibdir)
    control=$sharedir/extension/vector.control
    [[ -f $control && -f $pkglibdir/vector.so ]] || return 0
    sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$control"
}

version_ge() { # version_ge A B  => A >= B
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

# Mirror URL of the main Debian archive as configured in /etc/apt.
debian_mirror() {
    local codename=$1 f url=""
    # one-line style: deb [opts] URL SUITE COMPONENTS...
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        url=$(awk -v s="$codename" '
            $1 == "deb" || $1 == "deb-src" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == s) { print $i; exit }
            }' "$f")
        [[ -n $url ]] && break
    done
    # deb822 style: URIs: / Suites: stanzas
    if [[ -z $url ]]; then
        for f in /etc/apt/sources.list.d/*.sources; do
            [[ -f $f ]] || continue
            url=$(awk -v s="$codename" '
                function flush() {
                    if (uris != "" && (" " suites " ") ~ (" " s " ")) { split(uris, u, " "); print u[1]; found = 1; exit }
                    uris = ""; suites = ""
                }
                /^[[:space:]]*$/ { flush(); next }
                tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
                tolower($1) == "suites:" { $1 = ""; suites = $0; sub(/^ +/, "", suites) }
                END { if (!found) flush() }' "$f")
            [[ -n $url ]] && break
        done
    fi
    printf '%s\n' "${url:-http://deb.debian.org/debian}"
}

# Build pgvector from the Debian trixie source package. The trixie deb-src
# entry lives only in a private apt configuration (own sources list and own
# lists directory), so the system's apt never sees trixie and can never
# install or upgrade trixie binary packages.
build_pgvector() {
    local codename mirror keyring work apt_opts srcdir logf rc=0
    codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}")
    mirror=$(debian_mirror "$codename")
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg

    work=$(mktemp -d "${TMPDIR:-/tmp}/monoscope-pgvector.XXXXXX")
    TMP_PATHS+=("$work")
    chmod 755 "$work"
    mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d" "$work/src"
    if [[ -f $keyring ]]; then
        printf 'deb-src [signed-by=%s] %s trixie main\n' "$keyring" "$mirror" >"$work/apt/sources.list"
    else
        printf 'deb-src %s trixie main\n' "$mirror" >"$work/apt/sources.list"
    fi
    if id _apt >/dev/null 2>&1; then
        chown -R _apt "$work/apt/lists/partial" "$work/src" 2>/dev/null || true
    fi
    apt_opts=(
        -o "Dir::Etc::SourceList=$work/apt/sources.list"
        -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
        -o "Dir::State::Lists=$work/apt/lists"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
    )

    log "fetching pgvector source from $mirror (trixie, deb-src only)"
    apt_get "${apt_opts[@]}" update
    (cd "$work/src" && apt_get "${apt_opts[@]}" --only-source source pgvector)
    srcdir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
    [[ -n $srcdir && -f $srcdir/Makefile ]] || die "apt-get source pgvector did not produce a source tree in $work/src"

    log "building $(basename "$srcdir")"
    logf=$work/build.log
    make -C "$srcdir" -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PG_CONFIG" >"$logf" 2>&1 || rc=$?
    if ((rc != 0)); then
        tail -n 40 "$logf" >&2
        die "building pgvector failed (exit code $rc)"
    fi
    as_root make -C "$srcdir" PG_CONFIG="$PG_CONFIG" install >>"$logf" 2>&1 || rc=$?
    if ((rc != 0)); then
        tail -n 40 "$logf" >&2
        die "installing pgvector failed (exit code $rc)"
    fi
}

ensure_pgvector_installed() {
    local v
    v=$(pgvector_installed_version)
    if [[ -n $v ]] && version_ge "$v" "$PGVECTOR_MIN_VERSION"; then
        return 0
    fi
    if [[ -n $v ]]; then
        log "pgvector $v is older than $PGVECTOR_MIN_VERSION; rebuilding"
    fi

    # Build prerequisites: server headers (PGXS), a compiler, dpkg-source.
    local pkgs=()
    [[ -f $("$PG_CONFIG" --includedir-server)/postgres.h &&
        -f $("$PG_CONFIG" --pgxs) ]] || pkgs+=("postgresql-server-dev-${PG_MAJOR}")
    command -v make >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1 || pkgs+=(build-essential)
    command -v dpkg-source >/dev/null 2>&1 || pkgs+=(dpkg-dev)
    ((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"

    build_pgvector
    v=$(pgvector_installed_version)
    [[ -n $v ]] || die "pgvector installation did not produce vector.control/vector.so"
    version_ge "$v" "$PGVECTOR_MIN_VERSION" || die "pgvector $v installed, but >= $PGVECTOR_MIN_VERSION is required"
    log "installed pgvector $v"
}

ensure_installed() {
    command -v apt-get >/dev/null 2>&1 || [[ -x $PG_BIN/postgres ]] ||
        die "PostgreSQL $PG_MAJOR not found in $PG_BIN and apt-get is unavailable"
    # Fast path: everything present, no lock needed.
    local v
    if [[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/psql && -x $PG_CONFIG &&
        -f $("$PG_CONFIG" --sharedir)/extension/pg_trgm.control ]]; then
        v=$(pgvector_installed_version)
        if [[ -n $v ]] && version_ge "$v" "$PGVECTOR_MIN_VERSION"; then
            return 0
        fi
    fi
    # Serialise concurrent installs (parallel CI jobs etc.). Open an existing
    # lock file read-only: it may belong to another user in sticky /tmp.
    local lock=/tmp/monoscope-setup-postgres-install.lock
    if [[ -e $lock ]]; then
        exec 8<"$lock"
    else
        exec 8>>"$lock"
        chmod 644 "$lock" 2>/dev/null || true
    fi
    flock -w 1800 8 || die "timed out waiting for install lock $lock"
    ensure_postgres_installed
    ensure_pgvector_installed
    flock -u 8
    exec 8>&-
}

ensure_pg_user() {
    ((IS_ROOT)) || return 0
    if ! id "$PG_USER" >/dev/null 2>&1; then
        log "creating system user $PG_USER"
        useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
            --shell /bin/sh "$PG_USER" || die "could not create user $PG_USER"
    fi
}

# ---------------------------------------------------------------------------
# Cluster directory
# ---------------------------------------------------------------------------

PREFERRED_DIR=${MONOSCOPE_PG_DIR:-$REPO_DIR/.pgdata}
[[ $PREFERRED_DIR == /* ]] || PREFERRED_DIR=$PWD/$PREFERRED_DIR
FALLBACK_DIR=/tmp/monoscope-pg-$(printf '%s' "$PREFERRED_DIR" | sha1sum | cut -c1-12)

has_cluster() { [[ -f $1/data/PG_VERSION || -f $1/database_url ]]; }

# Directory of an existing cluster (no side effects); empty if none.
existing_pgdir() {
    if has_cluster "$PREFERRED_DIR"; then
        printf '%s\n' "$PREFERRED_DIR"
    elif has_cluster "$FALLBACK_DIR"; then
        printf '%s\n' "$FALLBACK_DIR"
    fi
}

# Create (if needed) a cluster directory the server user can use.
usable_dir() {
    local dir=$1
    mkdir -p -- "$dir" 2>/dev/null || return 1
    if ((IS_ROOT)); then
        chown "$PG_USER:" "$dir" 2>/dev/null || return 1
        chmod 755 "$dir"
        as_pg test -r "$dir" -a -w "$dir" -a -x "$dir" 2>/dev/null || return 1
    else
        [[ -r $dir && -w $dir && -x $dir ]] || return 1
    fi
}

prepare_pgdir() {
    local dir
    dir=$(existing_pgdir)
    if [[ -z $dir ]]; then
        if usable_dir "$PREFERRED_DIR"; then
            dir=$PREFERRED_DIR
        else
            rmdir -- "$PREFERRED_DIR" 2>/dev/null || true
            log "user $PG_USER cannot access $PREFERRED_DIR; using $FALLBACK_DIR instead"
            usable_dir "$FALLBACK_DIR" || die "cannot prepare cluster directory $FALLBACK_DIR for user $PG_USER"
            dir=$FALLBACK_DIR
        fi
    else
        usable_dir "$dir" || die "user $PG_USER cannot access cluster directory $dir"
    fi
    PGDIR=$dir
    DATA=$PGDIR/data
    mkdir -p "$PGDIR/run"
    ((IS_ROOT)) && chown "$PG_USER:" "$PGDIR/run"
    return 0
}

set_pgdir_readonly() {
    PGDIR=$(existing_pgdir)
    PGDIR=${PGDIR:-$PREFERRED_DIR}
    DATA=$PGDIR/data
}

# ---------------------------------------------------------------------------
# Server control
# ---------------------------------------------------------------------------

is_running() {
    [[ -f $DATA/PG_VERSION ]] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

running_port() { sed -n '4p' "$DATA/postmaster.pid" 2>/dev/null; }

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
    else
        (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

pick_port() {
    local p
    if [[ -n ${MONOSCOPE_PG_PORT:-} ]]; then
        [[ $MONOSCOPE_PG_PORT =~ ^[0-9]+$ ]] && ((MONOSCOPE_PG_PORT > 0 && MONOSCOPE_PG_PORT < 65536)) ||
            die "MONOSCOPE_PG_PORT=$MONOSCOPE_PG_PORT is not a valid port"
        port_in_use "$MONOSCOPE_PG_PORT" && die "port $MONOSCOPE_PG_PORT (MONOSCOPE_PG_PORT) is already in use"
        printf '%s\n' "$MONOSCOPE_PG_PORT"
        return
    fi
    for ((p = DEFAULT_PORT; p < DEFAULT_PORT + 200; p++)); do
        if ! port_in_use "$p"; then
            printf '%s\n' "$p"
            return
        fi
    done
    die "no free port found in $DEFAULT_PORT..$((DEFAULT_PORT + 199)); set MONOSCOPE_PG_PORT"
}

init_cluster() {
    log "initialising cluster in $DATA"
    local logf=$PGDIR/initdb.log
    if ! as_pg "$PG_BIN/initdb" -D "$DATA" -U "$DB_ROLE" -A trust -E UTF8 --locale=C.UTF-8 \
        --no-instructions --no-sync >"$logf" 2>&1; then
        tail -n 30 "$logf" >&2
        die "initdb failed (log: $logf)"
    fi
    rm -f -- "$logf"
    printf "\n# Monoscope throwaway-cluster settings (rewritten on every start)\ninclude_if_exists = 'monoscope.conf'\n" |
        as_pg tee -a "$DATA/postgresql.conf" >/dev/null
}

write_conf() {
    local port=$1 sockdir=$PGDIR/run
    # Unix socket paths are limited to ~107 bytes.
    if ((${#sockdir} + 20 > 100)); then
        sockdir=/tmp
    fi
    as_pg tee "$DATA/monoscope.conf" >/dev/null <<EOF
# Generated by scripts/setup-postgres.sh — do not edit (rewritten on every start).
# Throwaway test cluster: durability is deliberately traded for speed.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 100
shared_buffers = '$SHARED_BUFFERS'
maintenance_work_mem = '1GB'
work_mem = '32MB'
max_parallel_maintenance_workers = 2
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = '4GB'
checkpoint_timeout = '30min'
jit = off
log_min_messages = warning
log_checkpoints = off
log_timezone = 'UTC'
timezone = 'UTC'
EOF
}

# Run a command with every file descriptor above 2 closed. The server is a
# long-lived daemon: it must not inherit our stdout pipe (fd 3; a caller's
# $(...) would never see EOF), our lock files, or any fd of our caller.
with_fds_closed() {
    (
        fds=()
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && fds+=("$fd")
        done
        for fd in "${fds[@]+"${fds[@]}"}"; do
            eval "exec $fd>&-" 2>/dev/null || true
        done
        "$@"
    )
}

start_server() {
    local port=$1
    write_conf "$port"
    log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$port"
    if ! with_fds_closed as_pg "$PG_BIN/pg_ctl" start -D "$DATA" -l "$PGDIR/postgres.log" -w -t 120 -s \
        </dev/null >/dev/null 2>&1; then
        tail -n 20 "$PGDIR/postgres.log" >&2 || true
        if tail -n 20 "$PGDIR/postgres.log" 2>/dev/null | grep -qi 'could not bind\|address already in use'; then
            return 2
        fi
        die "PostgreSQL failed to start (log: $PGDIR/postgres.log)"
    fi
}

psql_q() { # psql_q DB SQL
    PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At \
        "postgresql://$DB_ROLE@127.0.0.1:$PORT/$1" -c "$2"
}

ensure_database() {
    if [[ -z $(psql_q postgres "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") ]]; then
        log "creating database $DB_NAME"
        psql_q postgres "CREATE DATABASE $DB_NAME" >/dev/null
    fi
    psql_q "$DB_NAME" "SET client_min_messages = warning;
        CREATE EXTENSION IF NOT EXISTS vector;
        ALTER EXTENSION vector UPDATE;
        CREATE EXTENSION IF NOT EXISTS pg_trgm;" >/dev/null ||
        die "could not create extensions vector / pg_trgm in database $DB_NAME"
}

cmd_start() {
    ensure_installed
    ensure_pg_user
    prepare_pgdir

    # Serialise concurrent starts on the same cluster directory.
    exec 7>>"$PGDIR/.setup.lock"
    flock -w 300 7 || die "timed out waiting for lock $PGDIR/.setup.lock"

    if [[ -f $DATA/PG_VERSION ]]; then
        local v
        v=$(<"$DATA/PG_VERSION")
        [[ $v == "$PG_MAJOR" ]] || die "$DATA holds a PostgreSQL $v cluster, expected $PG_MAJOR (remove $PGDIR to recreate)"
    else
        init_cluster
    fi

    if is_running; then
        PORT=$(running_port)
        [[ -n $PORT ]] || die "cluster in $DATA runs but its port is unknown"
        if [[ -n ${MONOSCOPE_PG_PORT:-} && $MONOSCOPE_PG_PORT != "$PORT" ]]; then
            log "cluster already running on port $PORT (ignoring MONOSCOPE_PG_PORT=$MONOSCOPE_PG_PORT; stop it first to change)"
        fi
        log "reusing running cluster in $PGDIR (port $PORT)"
    else
        local attempt rc
        for attempt in 1 2 3; do
            PORT=$(pick_port)
            rc=0
            start_server "$PORT" || rc=$?
            ((rc == 0)) && break
            [[ -z ${MONOSCOPE_PG_PORT:-} ]] || die "port $PORT (MONOSCOPE_PG_PORT) is already in use"
            ((attempt < 3)) || die "could not find a free port to start PostgreSQL"
            log "port $PORT was taken meanwhile; retrying with another port"
        done
    fi

    ensure_database
    local url="postgresql://$DB_ROLE@127.0.0.1:$PORT/$DB_NAME"
    printf '%s\n' "$url" >"$PGDIR/database_url"
    chmod 644 "$PGDIR/database_url"
    flock -u 7
    printf '%s\n' "$url" >&3
}

cmd_stop() {
    set_pgdir_readonly
    if is_running; then
        log "stopping cluster in $PGDIR"
        as_pg "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 120 -s >/dev/null ||
            die "pg_ctl stop failed (log: $PGDIR/postgres.log)"
    else
        log "no cluster running in $PGDIR"
    fi
}

cmd_status() {
    set_pgdir_readonly
    if is_running; then
        printf 'running: %s (port %s, data %s)\n' "$(cat "$PGDIR/database_url" 2>/dev/null ||
            echo "postgresql://$DB_ROLE@127.0.0.1:$(running_port)/$DB_NAME")" "$(running_port)" "$DATA" >&3
    else
        printf 'not running (data %s)\n' "$DATA" >&3
        exit 3
    fi
}

cmd_url() {
    set_pgdir_readonly
    [[ -f $PGDIR/database_url ]] || die "no cluster set up in $PGDIR yet; run: $0 start"
    is_running || log "warning: the cluster in $PGDIR is not running"
    cat "$PGDIR/database_url" >&3
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
url) cmd_url ;;
install) ensure_installed ;;
-h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&3 ;;
*) die "unknown command '$1' (expected start, stop, status, url, install)" ;;
esac
