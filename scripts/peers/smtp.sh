#!/usr/bin/env bash
# Starts and stops the SMTP sink the email tests send to: aiosmtpd (Debian's
# python3-aiosmtpd, installed by install.sh) on 127.0.0.1 with STARTTLS on a
# self-signed certificate, storing what it accepts in a Maildir, through the
# handler in smtp_sink.py (which can also refuse chosen recipients, or a
# random share of them, with 421, 451 or 550: see DIR/rules.json in that file).
#
#   smtp.sh start DIR PORT   start in the background; returns once it listens
#   smtp.sh stop DIR         stop the server started in DIR (by its pid file)
#
# DIR holds cert.pem/key.pem (made once with openssl, valid for localhost and
# 127.0.0.1, reused by later starts), maildir/{tmp,new,cur}, rules.json,
# smtp.pid and smtp.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python=/usr/bin/python3   # Debian's, where python3-aiosmtpd lives (not a pyenv python3)

# alive PID: the process runs (a zombie, killed but not yet reaped by init,
# does not count).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

start() {
  local dir="$1" port="$2"
  mkdir -p "$dir/maildir/tmp" "$dir/maildir/new" "$dir/maildir/cur"
  if [ -f "$dir/smtp.pid" ] && alive "$(cat "$dir/smtp.pid")"; then
    echo "smtp: already running in $dir (pid $(cat "$dir/smtp.pid"))" >&2
    exit 1
  fi
  if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
  fi
  PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" nohup "$python" -m aiosmtpd -n \
    -l "127.0.0.1:$port" --tlscert "$dir/cert.pem" --tlskey "$dir/key.pem" \
    --no-requiretls -c smtp_sink.Sink "$dir" >>"$dir/smtp.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/smtp.pid"
  # Wait (up to 10 s) until it accepts connections, or report why it died.
  for _ in $(seq 1 200); do
    if ! alive "$pid"; then
      echo "smtp: aiosmtpd exited at start; log follows" >&2
      cat "$dir/smtp.log" >&2
      rm -f "$dir/smtp.pid"
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "smtp: listening on 127.0.0.1:$port (pid $pid, maildir $dir/maildir)"
      return 0
    fi
    sleep 0.05
  done
  echo "smtp: not listening on 127.0.0.1:$port after 10 s; stopping it" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/smtp.pid"
  exit 1
}

stop() { stop_pidfile "$1/smtp.pid" 0.02; }

case "${1:-}" in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
