#!/usr/bin/env bash
# A private PostgreSQL server for local development and tests, on 127.0.0.1 only, without Docker.
#
# Usage: deploy/local/postgres.sh install|start|stop|status|createdb NAME...
#   install          apt-get install postgresql, only when no /usr/lib/postgresql/*/bin/initdb exists
#   start            install if needed, initdb once, start (pg_ctl -w) and make sure the $PG_USER role exists;
#                    no-op when already running
#   stop             pg_ctl stop -m fast (no-op when not running)
#   status           print "running" (exit 0) or "stopped" (exit 1)
#   createdb NAME..  create each database that is missing, owned by $PG_USER (the server must be running)
#
# Environment (all optional):
#   PGPORT        TCP port on 127.0.0.1 (default 55432)
#   PG_HOME_DIR   holds data/, run/ (the unix socket) and postgres.log (default <repo>/var/postgres)
#   PG_USER       login role, created as SUPERUSER (default ddr)
#   PG_PASSWORD   its password (default ddr; for development only)
#   PG_START_TIMEOUT  seconds pg_ctl waits for start and stop (default 60)
#
# Authentication: TCP connections on 127.0.0.1 use scram-sha-256 (user $PG_USER, password $PG_PASSWORD), so a URL
# is postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PGPORT/NAME. The unix socket trusts its callers, but it lives in
# $PG_HOME_DIR/run with permissions 0700 owned by the server's OS user, so only that user (and root) can use it:
# this script's own psql calls go through it.
#
# PostgreSQL refuses to run as root: as root, the server and its tools run as the OS user "postgres" (runuser),
# and $PG_HOME_DIR is handed to that user. When "postgres" cannot reach $PG_HOME_DIR's parent folder (say, a
# repository under /root), the home moves to /var/tmp/ddr-postgres-<hash of $PG_HOME_DIR> and the script says so.
# As any other user, everything runs as that user.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

PGPORT="${PGPORT:-55432}"
PG_HOME_DIR="$(realpath -m -- "${PG_HOME_DIR:-$REPO_ROOT/var/postgres}")"
PG_USER="${PG_USER:-ddr}"
PG_PASSWORD="${PG_PASSWORD:-ddr}"
PG_OS_USER=postgres
START_TIMEOUT="${PG_START_TIMEOUT:-60}"

# The server's tools run as $PG_OS_USER with folders that user may not read: work from /.
cd /

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

is_root() { [[ $EUID -eq 0 ]]; }

# Runs a command as the server's OS user (root) or as ourselves (anyone else).
as_pg() {
    if is_root; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# The bin folder of the highest PostgreSQL major installed, or nothing.
find_pg_bin() {
    local initdb
    initdb="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$initdb" ]] && dirname "$initdb"
}

cmd_install() {
    if find_pg_bin >/dev/null; then
        return 0
    fi
    local sudo=()
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 || die "PostgreSQL is missing and installing it needs root"
        sudo=(sudo)
    fi
    log "installing PostgreSQL from Debian's packages"
    # No main cluster on 5432: this script makes its own. Keep this file if the package ships one too.
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql
    find_pg_bin >/dev/null || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb is there"
}

# Sets HOME_DIR, DATA_DIR, SOCKET_DIR, LOG_FILE. With $1 = create, also creates the home for the server's user.
resolve_home() {
    local requested="$PG_HOME_DIR" parent hash
    HOME_DIR="$requested"
    if is_root; then
        id -u "$PG_OS_USER" >/dev/null 2>&1 || die "no OS user '$PG_OS_USER' (the postgresql package creates it)"
        parent="$(dirname "$requested")"
        if [[ "${1:-}" = create ]]; then
            mkdir -p "$parent"
        fi
        if ! runuser -u "$PG_OS_USER" -- test -x "$parent"; then
            hash="$(printf '%s' "$requested" | sha256sum | cut -c1-12)"
            HOME_DIR="/var/tmp/ddr-postgres-$hash"
            if [[ "${1:-}" = create ]]; then
                log "user '$PG_OS_USER' cannot reach $parent: using $HOME_DIR instead of $requested"
            fi
        fi
    fi
    DATA_DIR="$HOME_DIR/data"
    SOCKET_DIR="$HOME_DIR/run"
    LOG_FILE="$HOME_DIR/postgres.log"
    if [[ "${1:-}" = create ]]; then
        mkdir -p "$HOME_DIR"
        if is_root; then
            chown "$PG_OS_USER:" "$HOME_DIR"
        fi
        as_pg mkdir -p "$SOCKET_DIR"
        as_pg chmod 0700 "$SOCKET_DIR"
    fi
}

pg_running() {
    [[ -f "$DATA_DIR/postmaster.pid" ]] || return 1
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

write_settings() {
    # Rendered on every start so that PGPORT and the home can change; included from postgresql.conf.
    as_pg tee "$DATA_DIR/ddr.conf" >/dev/null <<EOF
# Written by deploy/local/postgres.sh on every start: edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$SOCKET_DIR'
unix_socket_permissions = 0700
# Tuned for test suites on a 2-core machine; durability settings stay as in production.
max_connections = 200
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 64MB
max_wal_size = 1GB
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
}

init_cluster() {
    if [[ -f "$DATA_DIR/PG_VERSION" ]]; then
        return 0
    fi
    log "initdb $DATA_DIR ($("$PG_BIN/postgres" --version))"
    as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --no-instructions >"$HOME_DIR/initdb.log" 2>&1 \
        || { cat "$HOME_DIR/initdb.log" >&2; die "initdb failed"; }
    echo "include_if_exists = 'ddr.conf'" | as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null
}

psql_admin() {
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PGPORT" -U postgres -d postgres "$@"
}

ensure_role() {
    psql_admin -v u="$PG_USER" -v p="$PG_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN SUPERUSER PASSWORD %L', :'u', :'p') \gexec
SQL
}

cmd_start() {
    cmd_install
    PG_BIN="$(find_pg_bin)"
    resolve_home create
    if pg_running; then
        log "already running (127.0.0.1:$PGPORT, data $DATA_DIR)"
        return 0
    fi
    init_cluster
    write_settings
    log "starting PostgreSQL on 127.0.0.1:$PGPORT (data $DATA_DIR, log $LOG_FILE)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" start >/dev/null; then
        tail -n 30 "$LOG_FILE" >&2 || true
        die "PostgreSQL did not start"
    fi
    ensure_role
    log "running: postgresql://$PG_USER:***@127.0.0.1:$PGPORT/"
}

cmd_stop() {
    PG_BIN="$(find_pg_bin)" || { log "not installed"; return 0; }
    resolve_home
    if ! pg_running; then
        log "not running"
        return 0
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t "$START_TIMEOUT" stop >/dev/null
    log "stopped"
}

cmd_status() {
    if PG_BIN="$(find_pg_bin)"; then
        resolve_home
        if pg_running; then
            echo "running (127.0.0.1:$PGPORT, data $DATA_DIR)"
            return 0
        fi
    fi
    echo "stopped"
    return 1
}

cmd_createdb() {
    [[ $# -gt 0 ]] || die "createdb needs at least one database name"
    PG_BIN="$(find_pg_bin)" || die "PostgreSQL is not installed: run start first"
    resolve_home
    pg_running || die "PostgreSQL is not running: run start first"
    local name
    for name in "$@"; do
        psql_admin -v d="$name" -v u="$PG_USER" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d') \gexec
SQL
    done
}

main() {
    [[ $# -ge 1 ]] || usage
    local command="$1"
    shift
    case "$command" in
        install) [[ $# -eq 0 ]] || usage; cmd_install ;;
        start) [[ $# -eq 0 ]] || usage; cmd_start ;;
        stop) [[ $# -eq 0 ]] || usage; cmd_stop ;;
        status) [[ $# -eq 0 ]] || usage; cmd_status ;;
        createdb) cmd_createdb "$@" ;;
        *) usage ;;
    esac
}

main "$@"
