#!/usr/bin/env bash
# Makes a PostgreSQL server available for the tests and prints its admin URL on
# stdout. Order: a server already answering on 127.0.0.1:5432; the machine's
# cluster started with pg_ctlcluster; a throw-away cluster made with initdb in a
# temporary folder (installed from Debian's packages first if absent). Fails loudly,
# never skips.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

answers() { # host port
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2"
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

can_login() { # url
  command -v psql >/dev/null 2>&1 || return 0
  psql "$1" -tAc 'select 1' >/dev/null 2>&1
}

wait_for() { # host port
  for _ in $(seq 1 60); do answers "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

URL=postgres://postgres@127.0.0.1:5432/postgres
FORCE_TEMP=${CORDEE_TEST_PG_FORCE_TEMP:-}   # set to 1 to exercise the initdb path
if [ -z "$FORCE_TEMP" ] && answers 127.0.0.1 5432 && can_login "$URL"; then
  log "using the server on 127.0.0.1:5432"
  echo "$URL"; exit 0
fi

if [ -z "$FORCE_TEMP" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql 2>/dev/null); do
    log "starting cluster $version/main with pg_ctlcluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 || true
  done
  if wait_for 127.0.0.1 5432 && can_login "$URL"; then
    echo "$URL"; exit 0
  fi
  log "pg_ctlcluster did not give a usable server on 127.0.0.1:5432; trying a temporary cluster"
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN=$(find_bin || true)
if [ -z "$BIN" ] && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL is not installed; installing it from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    BIN=$(find_bin || true)
  fi
fi
INITDB=${BIN:+$BIN/}initdb
PGCTL=${BIN:+$BIN/}pg_ctl
command -v "$INITDB" >/dev/null 2>&1 || { log "FATAL: no PostgreSQL server can be had (no server answering, no initdb)"; exit 1; }

PORT=${CORDEE_TEST_PG_PORT:-55432}
DIR=${CORDEE_TEST_PG_DIR:-/tmp/cordee-pg-$PORT}
URL=postgres://postgres@127.0.0.1:$PORT/postgres
if answers 127.0.0.1 "$PORT" && can_login "$URL"; then
  log "using the temporary cluster already running on port $PORT"
  echo "$URL"; exit 0
fi
rm -rf "$DIR"; mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
log "initdb into $DIR (port $PORT)"
as_postgres "$INITDB" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >&2
as_postgres "$PGCTL" -D "$DIR/data" -l "$DIR/server.log" -w -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on" start >&2
wait_for 127.0.0.1 "$PORT" || { log "FATAL: the temporary cluster did not start; see $DIR/server.log"; exit 1; }
echo "$URL"
