#!/usr/bin/env bash
# Starts and stops a private PostgreSQL 15 cluster (Debian's postgresql-15,
# installed by install.sh) on 127.0.0.1, for the tests that run notifyd on
# PostgreSQL. Trust authentication for the user postgres, durable commits
# (as in production, so that benchmarks compare fairly with SQLite), its
# socket and data under DIR.
#
#   postgres.sh start DIR PORT   initdb DIR/data if needed, then start; returns once it accepts connections
#   postgres.sh stop DIR         stop it (fast shutdown)
#   postgres.sh url DIR PORT     print the connection URL of its postgres database
#
# As root the cluster runs as the postgres user (PostgreSQL refuses root);
# otherwise as the caller.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin

usage() {
  echo "usage: $0 start DIR PORT | stop DIR | url DIR PORT" >&2
  exit 2
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir="$1" port="$2"
  [ -x "$bin/pg_ctl" ] || { echo "postgres: $bin/pg_ctl not found; run scripts/peers/install.sh" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { echo "postgres: initdb failed; log follows" >&2; cat "$dir/initdb.log" >&2; exit 1; }
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300" \
    start >/dev/null ||
    { echo "postgres: did not start; log follows" >&2; cat "$dir/log" >&2; exit 1; }
  echo "postgres: listening on 127.0.0.1:$port (data $dir/data, log $dir/log)"
}

stop() {
  local dir="$1"
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  url) [ $# -eq 3 ] || usage; echo "postgres://postgres@127.0.0.1:$3/postgres?sslmode=disable" ;;
  *) usage ;;
esac
