#!/usr/bin/env bash
# bench.sh - build notifyd and notifyd-bench, start a throwaway server, and
# measure ping (and publish) throughput, latency, and server memory and CPU.
#
# Usage:
#   scripts/bench.sh [notifyd-bench flags...]
#
# Examples:
#   scripts/bench.sh
#   BENCH_CONCURRENCY=128 BENCH_DURATION=30s scripts/bench.sh
#   scripts/bench.sh -json -warmup 5s
#   BENCH_MODE=both scripts/bench.sh   # the ping and the publish intake, one run
#
# Environment:
#   BENCH_MODE         what to measure: ping (POST /v1/notifications, the
#                      default), publish (POST /v1/events: published event
#                      creations with a small text/calendar payload, each
#                      acknowledged durably), or both (ping, then publish,
#                      on the same server, one after the other)
#   BENCH_CONCURRENCY  concurrent keep-alive clients (default 64)
#   BENCH_DURATION     length of the measured window (default 10s)
#   BENCH_CLIENT       "wrk" to load with wrk (Debian's wrk; far less CPU per
#                      request than the Go generator, so more of the machine
#                      goes to notifyd); default: cmd/notifyd-bench
#   BENCH_IDLE_WAIT    seconds to let the idle server settle before its RSS
#                      is recorded (default 5)
#   GO                 go command to build with (default go)
#
# Steps: builds ./cmd/notifyd and ./cmd/notifyd-bench (CGO_ENABLED=0,
# -trimpath) into a temp dir; writes a config there with the data directory
# in the same temp dir and a free loopback port; starts "notifyd serve";
# waits for GET /readyz to answer 200; sleeps BENCH_IDLE_WAIT seconds and
# records the idle RSS; runs notifyd-bench against it with -pid; stops the
# server with SIGTERM and waits for it. The temp dir (binaries, data, server
# log) is removed on exit, however the script ends.
#
# Targets on a 2-core machine with 64 clients: >= 15000 accepted pings/s,
# p99 < 25 ms, idle server RSS < 60 MB. The load generator runs on the same
# machine and uses a share of the CPU itself (see "bench CPU" in the output).
#
# Exit status: that of notifyd-bench (1 if any ping failed), or 1 if the
# build, the server start or the server shutdown failed.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
fi

MODE="${BENCH_MODE:-ping}"
case "$MODE" in
ping) MODES=(ping) ;;
publish) MODES=(publish) ;;
both) MODES=(ping publish) ;;
*)
	printf 'bench.sh: BENCH_MODE=%s: want ping, publish or both\n' "$MODE" >&2
	exit 2
	;;
esac
CONCURRENCY="${BENCH_CONCURRENCY:-64}"
DURATION="${BENCH_DURATION:-10s}"
IDLE_WAIT="${BENCH_IDLE_WAIT:-5}"
GO="${GO:-go}"
TOKEN="bench-token-0123456789"
READY_TIMEOUT=30 # seconds to wait for /readyz
STOP_TIMEOUT=20  # seconds to wait for the server to exit after SIGTERM

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/notifyd-bench.XXXXXX")"
SERVER_PID=""

log() { printf 'bench.sh: %s\n' "$*" >&2; }

cleanup() {
	if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# show_server_log prints the end of the server's log, for failures.
show_server_log() {
	log "last lines of the server log:"
	tail -n 40 "$TMP/server.log" >&2 || true
}

# free_port prints a loopback TCP port that nothing listens on right now.
free_port() {
	if [[ -x /usr/bin/python3 ]]; then
		/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
		return
	fi
	# Fallback: a random high port that refuses connections.
	local port i
	for i in $(seq 1 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	log "no free port found"
	return 1
}

# http_status prints the HTTP status code of GET $1, or 000 if unreachable.
http_status() {
	if command -v curl >/dev/null; then
		curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true
	else
		/usr/bin/python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")' "$1"
	fi
}

# rss_kb prints the VmRSS of process $1 in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

log "building into $TMP"
(
	cd "$ROOT"
	CGO_ENABLED=0 "$GO" build -trimpath -o "$TMP/notifyd" ./cmd/notifyd
	CGO_ENABLED=0 "$GO" build -trimpath -o "$TMP/notifyd-bench" ./cmd/notifyd-bench
)

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$TMP/data"
cat >"$TMP/config.yaml" <<EOF
http:
  addr: 127.0.0.1:$PORT
database:
  data_dir: $TMP/data
log:
  level: warn
systems:
  bench:
    caldav_url: http://127.0.0.1:1/
    tokens: ["$TOKEN"]
# The intake benchmark measures durable enqueue: the sync jobs wait in the
# queue (there is no CalDAV server to sync from).
jobs:
  run: false
EOF

log "starting notifyd on $BASE"
"$TMP/notifyd" serve -config "$TMP/config.yaml" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + READY_TIMEOUT))
until [[ "$(http_status "$BASE/readyz")" == 200 ]]; do
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		log "notifyd exited before becoming ready"
		show_server_log
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		log "notifyd not ready after ${READY_TIMEOUT}s"
		show_server_log
		exit 1
	fi
	sleep 0.1
done

log "ready; idling ${IDLE_WAIT}s before measuring idle RSS"
sleep "$IDLE_WAIT"
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
	log "notifyd exited while idle"
	show_server_log
	exit 1
fi
IDLE_RSS_KB="$(rss_kb "$SERVER_PID")"

bench_status=0
if [[ "${BENCH_CLIENT:-}" == wrk && "$MODE" != ping ]]; then
	log "BENCH_CLIENT=wrk measures pings only; use the Go generator for BENCH_MODE=$MODE"
	exit 2
fi
if [[ "${BENCH_CLIENT:-}" == wrk ]]; then
	# wrk (C) spends far less CPU per request than the Go load generator,
	# leaving more of this machine to notifyd.
	command -v wrk >/dev/null || { log "wrk is not installed: apt-get install wrk"; exit 1; }
	log "running wrk: c=$CONCURRENCY d=$DURATION"
	cpu_before="$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")"
	NOTIFYD_BENCH_TOKEN="$TOKEN" wrk -t2 -c"$CONCURRENCY" -d"$DURATION" --timeout 5s \
		-s "$ROOT/scripts/bench-ping.lua" "$BASE" | grep -E '^(accepted|errors|latency)' || bench_status=$?
	cpu_after="$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")"
	awk -v b="$cpu_before" -v a="$cpu_after" 'BEGIN { printf "server CPU    %.2fs\n", (a - b) / 100 }'
	awk '/^VmRSS:/ {printf "server RSS    after %.1f MiB\n", $2 / 1024}' "/proc/$SERVER_PID/status"
else
	for mode in "${MODES[@]}"; do
		url="$BASE/v1/notifications"
		[[ "$mode" == publish ]] && url="$BASE/v1/events"
		log "running notifyd-bench: mode=$mode c=$CONCURRENCY d=$DURATION"
		[[ ${#MODES[@]} -gt 1 ]] && printf '== %s\n' "$mode" >&2
		"$TMP/notifyd-bench" \
			-mode "$mode" \
			-url "$url" \
			-token "$TOKEN" \
			-c "$CONCURRENCY" \
			-d "$DURATION" \
			-pid "$SERVER_PID" \
			"$@" || bench_status=$?
	done
fi

# Printed to stderr so that stdout stays pure JSON with -json.
awk -v kb="$IDLE_RSS_KB" -v idle="$IDLE_WAIT" 'BEGIN {
	printf "idle RSS      %.1f MiB (%d kB) after %ss idle; target < 60 MB (57.2 MiB): %s\n",
		kb / 1024, kb, idle, (kb * 1024 < 60e6 ? "ok" : "OVER")
}' >&2

log "stopping notifyd (SIGTERM)"
kill -TERM "$SERVER_PID" 2>/dev/null || true
deadline=$((SECONDS + STOP_TIMEOUT))
while kill -0 "$SERVER_PID" 2>/dev/null && ((SECONDS < deadline)); do
	sleep 0.1
done
server_status=0
if kill -0 "$SERVER_PID" 2>/dev/null; then
	log "notifyd still running ${STOP_TIMEOUT}s after SIGTERM; killing it"
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	server_status=1
fi
wait "$SERVER_PID" 2>/dev/null || server_status=$?
SERVER_PID=""
if ((server_status != 0)); then
	log "notifyd exited with status $server_status"
	show_server_log
fi

if ((bench_status != 0)); then
	log "notifyd-bench failed (status $bench_status)"
	exit "$bench_status"
fi
if ((server_status != 0)); then
	exit 1
fi
