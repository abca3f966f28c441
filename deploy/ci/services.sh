#!/usr/bin/env bash
# Throwaway services for the tests of the production profile: a PostgreSQL server (Debian's
# package) and an S3 endpoint (moto in server mode), both on 127.0.0.1 only.
#
#   deploy/ci/services.sh start [all|postgres|s3]   start them, write their URLs to the env file
#   deploy/ci/services.sh stop                      stop what `start` started, delete its files
#
# The env file (PAPERS_SERVICES_ENV, default .ci/services.env) is meant to be sourced: it
# exports PAPERS_TEST_POSTGRES_URL and PAPERS_TEST_S3_ENDPOINT, which
# tests/deploy/test_production_profile.py uses instead of starting its own services.
#
# Ports: PAPERS_PG_PORT and PAPERS_S3_PORT, else the first free port from 55432 and 55000.
# PostgreSQL binaries: PG_BIN, else the newest /usr/lib/postgresql/*/bin; when there are none,
# `apt-get install postgresql` (as root) installs them. initdb and pg_ctl refuse to run as root,
# so as root the cluster belongs to the `postgres` user.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ENV_FILE="${PAPERS_SERVICES_ENV:-$REPO/.ci/services.env}"
MOTO_SERVER="${MOTO_SERVER:-$REPO/.venv/bin/moto_server}"
# the role may create databases: the tests make one per test, so runs of one never show in another
PG_USER=papers
PG_PASSWORD=papers
PG_DATABASE=dagster

log() { echo "services: $*" >&2; }

port_is_free() {
    # a connection that succeeds means something already listens there
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port=$1
    while ! port_is_free "$port"; do
        port=$((port + 1))
    done
    echo "$port"
}

wait_for_port() {
    local port=$1 tries=100
    while port_is_free "$port"; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            return 1
        fi
        sleep 0.1
    done
}

find_pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
        return
    fi
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$found" ] && command -v initdb >/dev/null 2>&1; then
        found="$(dirname "$(command -v initdb)")"
    fi
    echo "$found"
}

install_postgres() {
    if [ "$(id -u)" -ne 0 ]; then
        log "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
        exit 1
    fi
    log "installing PostgreSQL (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# runs a PostgreSQL binary as the cluster's owner
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bin port data
    bin="$(find_pg_bin)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        install_postgres
        bin="$(find_pg_bin)"
    fi
    port="${PAPERS_PG_PORT:-$(free_port 55432)}"
    data="$(mktemp -d "${TMPDIR:-/tmp}/papers-postgres.XXXXXX")"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$data"
    fi
    chmod 700 "$data"
    as_owner "$bin/initdb" -D "$data/cluster" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 ||
        { cat "$data/initdb.log" >&2; exit 1; }
    # a throwaway cluster: durability settings off, sockets in its own folder, loopback only
    as_owner "$bin/pg_ctl" -D "$data/cluster" -l "$data/postgres.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null || { cat "$data/postgres.log" >&2; exit 1; }
    as_owner "$bin/psql" -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" \
        -c "CREATE DATABASE $PG_DATABASE OWNER $PG_USER" >/dev/null
    log "PostgreSQL on 127.0.0.1:$port (cluster in $data)"
    {
        echo "export PAPERS_TEST_POSTGRES_URL=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE"
        echo "export PAPERS_SERVICES_PG_BIN=$bin"
        echo "export PAPERS_SERVICES_PG_DATA=$data"
    } >>"$ENV_FILE"
}

start_s3() {
    local port pid
    if [ ! -x "$MOTO_SERVER" ]; then
        log "$MOTO_SERVER is missing: create the environment first (make test does)"
        exit 1
    fi
    port="${PAPERS_S3_PORT:-$(free_port 55000)}"
    "$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$(dirname "$ENV_FILE")/moto.log" 2>&1 &
    pid=$!
    if ! wait_for_port "$port"; then
        log "moto did not start; see $(dirname "$ENV_FILE")/moto.log"
        kill "$pid" 2>/dev/null || true
        exit 1
    fi
    log "S3 endpoint (moto) on http://127.0.0.1:$port, process $pid"
    {
        echo "export PAPERS_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
        echo "export PAPERS_SERVICES_MOTO_PID=$pid"
    } >>"$ENV_FILE"
}

start() {
    local which="${1:-all}"
    if [ -e "$ENV_FILE" ]; then
        log "$ENV_FILE exists: services already started? run '$0 stop' first"
        exit 1
    fi
    mkdir -p "$(dirname "$ENV_FILE")"
    : >"$ENV_FILE"
    case "$which" in
        all) start_postgres; start_s3 ;;
        postgres) start_postgres ;;
        s3) start_s3 ;;
        *) log "unknown service '$which' (all, postgres or s3)"; exit 2 ;;
    esac
}

stop() {
    if [ ! -e "$ENV_FILE" ]; then
        log "nothing to stop ($ENV_FILE does not exist)"
        return
    fi
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    if [ -n "${PAPERS_SERVICES_MOTO_PID:-}" ]; then
        kill "$PAPERS_SERVICES_MOTO_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$PAPERS_SERVICES_MOTO_PID" 2>/dev/null || break
            sleep 0.1
        done
        log "stopped moto (process $PAPERS_SERVICES_MOTO_PID)"
    fi
    if [ -n "${PAPERS_SERVICES_PG_DATA:-}" ] && [ -d "$PAPERS_SERVICES_PG_DATA/cluster" ]; then
        as_owner "$PAPERS_SERVICES_PG_BIN/pg_ctl" -D "$PAPERS_SERVICES_PG_DATA/cluster" -m fast \
            -w stop >/dev/null || true
        rm -rf "$PAPERS_SERVICES_PG_DATA"
        log "stopped PostgreSQL and deleted its cluster"
    fi
    rm -f "$ENV_FILE" "$(dirname "$ENV_FILE")/moto.log"
}

case "${1:-}" in
    start) start "${2:-all}" ;;
    stop) stop ;;
    *) echo "usage: $0 start [all|postgres|s3] | stop" >&2; exit 2 ;;
esac
