#!/usr/bin/env bash
# Starts and stops the XMPP server the instant-message tests talk to:
# Prosody 0.12 (Debian's prosody, installed by install.sh) on 127.0.0.1,
# with a private configuration and data, STARTTLS on a self-signed
# certificate (plain connections allowed too), and offline message storage
# (mod_offline).
#
#   prosody.sh start DIR PORT [USER PASSWORD]...
#                                start in the background, create the users
#                                (on VirtualHost "localhost"), return once
#                                port PORT takes connections
#   prosody.sh register DIR USER PASSWORD
#                                create (or reset) one user of the instance
#                                in DIR (started before), running or not
#   prosody.sh stop DIR          stop the server started in DIR (by its pid)
#
# With PROSODY_TLS_PORT set, clients can also connect with TLS from the
# first byte (XEP-0368 direct TLS) on that port.
#
# DIR holds prosody.cfg.lua, cert.pem/key.pem (made once with openssl, valid
# for localhost and 127.0.0.1, reused by later starts), data/, prosody.pid
# and prosody.log. Prosody refuses to run as root: as root, the script runs
# it (and prosodyctl) as the prosody user with runuser and hands DIR to
# that user; DIR's parents must let that user through.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT [USER PASSWORD]... | register DIR USER PASSWORD | stop DIR" >&2
  exit 2
}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# as_prosody CMD...: run CMD as the prosody user when we are root.
as_prosody() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u prosody -- "$@"
  else
    "$@"
  fi
}

configure() {
  local dir="$1" port="$2"
  mkdir -p "$dir/data"
  if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
  fi
  cat >"$dir/prosody.cfg.lua" <<CFG
-- Written by scripts/peers/prosody.sh for a test instance (prosody runs
-- with -F: in the foreground).
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
interfaces = { "127.0.0.1" }
c2s_ports = { $port }
c2s_direct_tls_ports = { ${PROSODY_TLS_PORT:-} }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "offline" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "internal"
ssl = { key = "$dir/key.pem"; certificate = "$dir/cert.pem" }
certificates = "$dir"
log = { info = "$dir/prosody.log" }
VirtualHost "localhost"
CFG
  if [ "$(id -u)" -eq 0 ]; then
    chown -R prosody: "$dir"
  fi
}

register() {
  local dir="$1" user="$2" pass="$3"
  as_prosody prosodyctl --config "$dir/prosody.cfg.lua" register "$user" localhost "$pass" >/dev/null
}

start() {
  local dir="$1" port="$2"
  shift 2
  [ $(($# % 2)) -eq 0 ] || usage
  mkdir -p "$dir"
  if [ -f "$dir/prosody.pid" ] && alive "$(cat "$dir/prosody.pid")"; then
    echo "prosody: already running in $dir (pid $(cat "$dir/prosody.pid"))" >&2
    exit 1
  fi
  configure "$dir" "$port"
  while [ $# -gt 0 ]; do
    register "$dir" "$1" "$2"
    shift 2
  done
  if [ "$(id -u)" -eq 0 ]; then
    nohup runuser -u prosody -- prosody --config "$dir/prosody.cfg.lua" -F >>"$dir/prosody.out" 2>&1 </dev/null &
  else
    nohup prosody --config "$dir/prosody.cfg.lua" -F >>"$dir/prosody.out" 2>&1 </dev/null &
  fi
  local pid=$!
  # Wait (up to 10 s) until it takes connections, or report why it died.
  for _ in $(seq 1 200); do
    if ! alive "$pid"; then
      echo "prosody: exited at start; output and log follow" >&2
      cat "$dir/prosody.out" "$dir/prosody.log" >&2 2>/dev/null || true
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # The runuser pid is the one to signal (it forwards to prosody).
      echo "$pid" >"$dir/prosody.runner.pid"
      echo "prosody: listening on 127.0.0.1:$port (pid $pid, data $dir/data)"
      return 0
    fi
    sleep 0.05
  done
  echo "prosody: not listening on 127.0.0.1:$port after 10 s; stopping it" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  stop_pidfile "$1/prosody.pid" 0.05
  stop_pidfile "$1/prosody.runner.pid" 0.05
}

case "${1:-}" in
  start) [ $# -ge 3 ] || usage; start "$2" "$3" "${@:4}" ;;
  register) [ $# -eq 4 ] || usage; register "$2" "$3" "$4" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
