#!/usr/bin/env bash
# Starts and stops a Radicale 3.1 CalDAV server (Debian's radicale,
# installed by install.sh) on 127.0.0.1 for the reminder tests: a calendar
# server other than Cyrus, with calendars and sync-collection but no
# notification collections. See docs/peers.md.
#
#   radicale.sh start DIR PORT [USER PASSWORD]...
#                        write DIR/config, DIR/users (htpasswd, plain
#                        passwords: Debian's Radicale has no passlib for
#                        bcrypt) and DIR/rights, create each user's
#                        principal, start in the background and return once
#                        PORT takes connections. A user named "notifier" is
#                        the service account: it may read every principal
#                        and every calendar (rights file).
#   radicale.sh stop DIR stop the server started in DIR (by its pid file)
#
# Storage is the filesystem under DIR/collections;
# the log is DIR/radicale.log. start on a DIR started before keeps its data
# and users and adds the users given.
#
# With RADICALE_HOOK set, Radicale runs that shell command after every
# change to its storage ([storage] hook), with %(user)s replaced by the
# (shell-quoted) name of the user who made it: a way to ping notifyd (see
# docs/peers.md). It runs before the request is answered, and a failing
# hook fails the request: end it with "|| true".
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 start DIR PORT [USER PASSWORD]... | stop DIR" >&2
  exit 2
}

configure() {
  local dir="$1" port="$2"
  mkdir -p "$dir/collections/collection-root"
  touch "$dir/users"
  cat >"$dir/config" <<CFG
# Written by scripts/peers/radicale.sh for a test instance.
[server]
hosts = 127.0.0.1:$port
[auth]
type = htpasswd
htpasswd_filename = $dir/users
htpasswd_encryption = plain
# No pause after a wrong password (the default is 1 s).
delay = 0
[rights]
type = from_file
file = $dir/rights
[storage]
filesystem_folder = $dir/collections
hook = ${RADICALE_HOOK:-}
[web]
type = none
[logging]
level = info
mask_passwords = True
CFG
  # The first section that matches a (user, collection path) pair decides;
  # paths have no leading or trailing slash. R/W: the root and principal
  # collections; r/w: calendars and address books.
  cat >"$dir/rights" <<'RIGHTS'
# Written by scripts/peers/radicale.sh.
[root]
user: .+
collection:
permissions: R

[own-principal]
user: .+
collection: {user}
permissions: RW

[own-collections]
user: .+
collection: {user}/[^/]+
permissions: rw

# The service account notifyd syncs with reads every principal and every
# calendar; nothing else reads another user's data.
[notifier-principals]
user: notifier
collection: [^/]+
permissions: R

[notifier-collections]
user: notifier
collection: [^/]+/[^/]+
permissions: r
RIGHTS
}

# add_user DIR USER PASSWORD: (re)sets USER's password and creates the
# principal collection Radicale would otherwise create at the first login,
# so that the service account finds users who never logged in.
add_user() {
  local dir="$1" user="$2" pass="$3" tmp
  case "$user" in *[!A-Za-z0-9._-]* | "") echo "radicale: bad user name: $user" >&2; exit 2 ;; esac
  tmp="$(mktemp "$dir/users.XXXXXX")"
  grep -v "^$user:" "$dir/users" >"$tmp" || true
  printf '%s:%s\n' "$user" "$pass" >>"$tmp"
  mv "$tmp" "$dir/users"
  mkdir -p "$dir/collections/collection-root/$user"
}

start() {
  local dir="$1" port="$2"
  shift 2
  [ $(($# % 2)) -eq 0 ] || usage
  mkdir -p "$dir"
  if [ -f "$dir/radicale.pid" ] && alive "$(cat "$dir/radicale.pid")"; then
    echo "radicale: already running in $dir (pid $(cat "$dir/radicale.pid"))" >&2
    exit 1
  fi
  # Checked first: a server already there would pass the wait below.
  if port_taken "$port"; then
    echo "radicale: port $port is already in use" >&2
    exit 1
  fi
  configure "$dir" "$port"
  while [ $# -gt 0 ]; do
    add_user "$dir" "$1" "$2"
    shift 2
  done
  nohup radicale -C "$dir/config" >>"$dir/radicale.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/radicale.pid"
  # Wait (up to 10 s) until it takes connections, or report why it died.
  for _ in $(seq 1 200); do
    if ! alive "$pid"; then
      echo "radicale: exited at start; log follows" >&2
      cat "$dir/radicale.log" >&2
      rm -f "$dir/radicale.pid"
      exit 1
    fi
    if port_taken "$port"; then
      echo "radicale: listening on http://127.0.0.1:$port (pid $pid, data $dir/collections)"
      return 0
    fi
    sleep 0.05
  done
  echo "radicale: not listening on 127.0.0.1:$port after 10 s; stopping it" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/radicale.pid"
  exit 1
}

stop() { stop_pidfile "$1/radicale.pid" 0.02; }

case "${1:-}" in
  start) [ $# -ge 3 ] || usage; start "$2" "$3" "${@:4}" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
