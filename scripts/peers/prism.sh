#!/usr/bin/env bash
# Starts and stops Prism (npm @stoplight/prism-cli, installed by install.sh)
# as a mock of Twilio's REST API: it serves Twilio's own OpenAPI document and
# validates every request against it (a good POST .../Messages.json gets 201
# with "status":"queued"; a request the document refuses, such as one
# without To, gets 422 with the reasons; one without Basic auth gets 401).
#
#   prism.sh bin                   print the prism executable to use, or fail
#   prism.sh start DIR PORT SPEC   start on 127.0.0.1:PORT serving SPEC, in the
#                                  background; returns once it listens
#   prism.sh stop DIR              stop the server started in DIR (pid file)
#
# The executable is $NOTIFYD_PRISM if set, else the one install.sh put in
# $NOTIFYD_PEERS_CACHE/prism (default ~/.cache/notifyd-peers/prism), else a
# prism on PATH. DIR receives prism.pid and prism.log.
set -euo pipefail

PRISM_VERSION=5.16.0
cache="${NOTIFYD_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/notifyd-peers}"

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 bin | start DIR PORT SPEC | stop DIR" >&2
  exit 2
}

bin() {
  command -v node >/dev/null 2>&1 || { echo "prism: node is not installed" >&2; return 1; }
  if [ -n "${NOTIFYD_PRISM:-}" ]; then
    [ -x "$NOTIFYD_PRISM" ] || { echo "prism: NOTIFYD_PRISM=$NOTIFYD_PRISM is not executable" >&2; return 1; }
    echo "$NOTIFYD_PRISM"
    return 0
  fi
  local cached="$cache/prism/node_modules/.bin/prism"
  local pkg="$cache/prism/node_modules/@stoplight/prism-cli/package.json"
  if [ -x "$cached" ] && [ -f "$pkg" ] && grep -q "\"version\": *\"$PRISM_VERSION\"" "$pkg"; then
    echo "$cached"
    return 0
  fi
  if command -v prism >/dev/null 2>&1; then
    command -v prism
    return 0
  fi
  echo "prism: @stoplight/prism-cli@$PRISM_VERSION is not installed in $cache/prism nor on PATH" >&2
  return 1
}

start() {
  local dir="$1" port="$2" spec="$3"
  mkdir -p "$dir"
  [ -r "$spec" ] || { echo "prism: cannot read the OpenAPI document $spec" >&2; exit 1; }
  if [ -f "$dir/prism.pid" ] && alive "$(cat "$dir/prism.pid")"; then
    echo "prism: already running in $dir (pid $(cat "$dir/prism.pid"))" >&2
    exit 1
  fi
  local prism
  prism="$(bin)"
  # Static mode: the answers are the document's examples (a message
  # "SMaaaa…" with "status":"queued"); requests are still validated.
  nohup "$prism" mock --host 127.0.0.1 --port "$port" "$spec" >>"$dir/prism.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/prism.pid"
  # Wait (up to 30 s: node loads the 3 MB document) until it listens, or
  # report why it died.
  for _ in $(seq 1 600); do
    if ! alive "$pid"; then
      echo "prism: exited at start; log follows" >&2
      tail -n 50 "$dir/prism.log" >&2
      rm -f "$dir/prism.pid"
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "prism: listening on 127.0.0.1:$port (pid $pid, $prism, log $dir/prism.log)"
      return 0
    fi
    sleep 0.05
  done
  echo "prism: not listening on 127.0.0.1:$port after 30 s; stopping it" >&2
  tail -n 50 "$dir/prism.log" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/prism.pid"
  exit 1
}

stop() { stop_pidfile "$1/prism.pid" 0.02; }

case "${1:-}" in
  bin) [ $# -eq 1 ] || usage; bin ;;
  start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
