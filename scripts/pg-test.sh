#!/usr/bin/env bash
# A private PostgreSQL for the test suites, idempotent: installs Debian's postgresql if missing,
# initialises a cluster of our own (so it never touches a system cluster), starts it if it is
# not running, sets the password, and prints the connection URL as the last stdout line:
#
#   export STAGEDOOR_TEST_PG=$(scripts/pg-test.sh)
#
# Everything else goes to stderr. Settings (all optional):
#   STAGEDOOR_PG_DIR       cluster directory   (default $HOME/.cache/stagedoor/pg)
#   STAGEDOOR_PG_PORT      TCP port on 127.0.0.1 (default 5433, clear of a system 5432)
#   STAGEDOOR_PG_PASSWORD  password of the postgres role (default stagedoor)
#   STAGEDOOR_PG_STOP=1    stop the cluster instead, and print nothing
set -euo pipefail

PG_ROOT="${STAGEDOOR_PG_DIR:-${HOME:-/root}/.cache/stagedoor/pg}"
PORT="${STAGEDOOR_PG_PORT:-5433}"
PASSWORD="${STAGEDOOR_PG_PASSWORD:-stagedoor}"
DATA="$PG_ROOT/data"
SOCK="$PG_ROOT/run"
LOG="$PG_ROOT/postgres.log"

log() { printf 'pg-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The newest installed server, or a specific major when the cluster already has one.
find_bindir() {
    local want="${1:-}"
    if [ -n "$want" ]; then
        [ -x "/usr/lib/postgresql/$want/bin/postgres" ] && echo "/usr/lib/postgresql/$want/bin"
        return 0
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dir" ] && [ -x "$dir/postgres" ] && echo "$dir"
    return 0
}

BIN=$(find_bindir)
if [ -z "$BIN" ]; then
    is_root || die "PostgreSQL is not installed and we are not root: run 'apt-get install -y postgresql' as root"
    log "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
    BIN=$(find_bindir)
    [ -n "$BIN" ] || die "postgresql installed but no server found under /usr/lib/postgresql/*/bin"
fi

# PostgreSQL refuses to run as root, so root runs it as the postgres user the package created.
if is_root; then
    id postgres >/dev/null 2>&1 || die "no postgres user; is the postgresql package installed?"
    # `cd /` because the caller's directory is often unreadable to postgres.
    as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
    as_pg() { "$@"; }
fi

if [ -n "${STAGEDOOR_PG_STOP:-}" ]; then
    if [ -f "$DATA/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    fi
    exit 0
fi

mkdir -p "$PG_ROOT"
if is_root; then
    chown postgres:postgres "$PG_ROOT"
    # postgres must be able to walk down to its directory (root's $HOME is usually 0700):
    # grant it search (x) on each ancestor it cannot cross, never read.
    # Top-down, because a child looks unreachable while its parent still is.
    ancestors=()
    dir="$PG_ROOT"
    while dir=$(dirname "$dir") && [ "$dir" != "/" ]; do ancestors=("$dir" "${ancestors[@]}"); done
    for dir in "${ancestors[@]}"; do
        if ! runuser -u postgres -- test -x "$dir"; then
            log "granting the postgres user search permission on $dir"
            if command -v setfacl >/dev/null 2>&1; then
                setfacl -m u:postgres:x "$dir"
            else
                chmod o+x "$dir"
            fi
        fi
    done
fi
as_pg mkdir -p "$SOCK"
as_pg chmod 0700 "$SOCK"

if [ -f "$DATA/PG_VERSION" ]; then
    major=$(cat "$DATA/PG_VERSION")
    BIN=$(find_bindir "$major")
    [ -n "$BIN" ] || die "$DATA was made by PostgreSQL $major, which is not installed; remove $PG_ROOT to start afresh"
else
    log "initialising a cluster in $DATA"
    pwfile=$(as_pg mktemp "$PG_ROOT/pwfile.XXXXXX")
    printf '%s\n' "$PASSWORD" | as_pg tee "$pwfile" >/dev/null
    # Local (socket) connections are trusted: the socket directory is 0700, ours alone.
    # TCP needs the password.
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >&2
    as_pg rm -f "$pwfile"
fi

running_port() {
    if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        sed -n 4p "$DATA/postmaster.pid"
    fi
}

current=$(running_port)
if [ -n "$current" ] && [ "$current" != "$PORT" ]; then
    log "cluster is running on port $current, restarting it on $PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    current=""
fi
if [ -z "$current" ]; then
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        die "something else already listens on 127.0.0.1:$PORT; set STAGEDOOR_PG_PORT"
    fi
    log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
    # A throwaway test cluster: durability is traded for speed (fsync off).
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o "\
-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$SOCK \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
        || { tail -n 20 "$LOG" >&2 || true; die "PostgreSQL did not start"; }
else
    log "already running on 127.0.0.1:$PORT"
fi

for _ in $(seq 1 30); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 1
done
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "PostgreSQL is not accepting connections on $PORT"

# Set every time, so a changed STAGEDOOR_PG_PASSWORD takes effect on an existing cluster.
# Read from stdin because psql interpolates :'pw' there, quoting it safely, but not in -c.
printf '%s\n' "ALTER ROLE postgres PASSWORD :'pw';" |
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -v pw="$PASSWORD" \
        -h "$SOCK" -p "$PORT" -U postgres -d postgres >&2

urlencode() {
    local LC_ALL=C s="$1" out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in
            [a-zA-Z0-9.~_-]) out+="$c" ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

echo "postgres://postgres:$(urlencode "$PASSWORD")@127.0.0.1:$PORT/postgres"
