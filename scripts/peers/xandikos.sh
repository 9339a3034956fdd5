#!/usr/bin/env bash
# Starts and stops a Xandikos 0.2 CalDAV server (Debian's xandikos,
# installed by install.sh) on 127.0.0.1 for the reminder tests: a calendar
# server other than Cyrus, with calendars (each a git repository) and
# sync-collection but no notification collections. See docs/peers.md.
#
#   xandikos.sh start DIR PORT USER
#                        serve DIR/data with one principal, /USER/ (calendar
#                        home /USER/calendars/, a calendar
#                        /USER/calendars/calendar/ made at the first start);
#                        return once PORT takes connections
#   xandikos.sh stop DIR stop the server started in DIR (by its pid file)
#
# Xandikos has no authentication of its own (it is meant to sit behind a
# reverse proxy that does it): every request, with or without credentials,
# acts as the one principal. That is fine on a loopback port in a test.
# The log (every request, and Python tracebacks on a 500) is
# DIR/xandikos.log.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 start DIR PORT USER | stop DIR" >&2
  exit 2
}

start() {
  local dir="$1" port="$2" user="$3"
  case "$user" in *[!A-Za-z0-9._-]* | "") echo "xandikos: bad user name: $user" >&2; exit 2 ;; esac
  mkdir -p "$dir"
  if [ -f "$dir/xandikos.pid" ] && alive "$(cat "$dir/xandikos.pid")"; then
    echo "xandikos: already running in $dir (pid $(cat "$dir/xandikos.pid"))" >&2
    exit 1
  fi
  # Checked first: a server already there would pass the wait below.
  if port_taken "$port"; then
    echo "xandikos: port $port is already in use" >&2
    exit 1
  fi
  # --defaults creates the principal, its calendar home, a calendar, an
  # address book and a scheduling inbox when they are missing.
  nohup xandikos --defaults -d "$dir/data" -l 127.0.0.1 -p "$port" \
    --current-user-principal "/$user/" >>"$dir/xandikos.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/xandikos.pid"
  # Wait (up to 10 s) until it takes connections, or report why it died.
  for _ in $(seq 1 200); do
    if ! alive "$pid"; then
      echo "xandikos: exited at start; log follows" >&2
      cat "$dir/xandikos.log" >&2
      rm -f "$dir/xandikos.pid"
      exit 1
    fi
    if port_taken "$port"; then
      echo "xandikos: listening on http://127.0.0.1:$port (pid $pid, principal /$user/, data $dir/data)"
      return 0
    fi
    sleep 0.05
  done
  echo "xandikos: not listening on 127.0.0.1:$port after 10 s; stopping it" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/xandikos.pid"
  exit 1
}

stop() { stop_pidfile "$1/xandikos.pid" 0.02; }

case "${1:-}" in
  start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
