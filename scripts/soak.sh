#!/usr/bin/env bash
# soak.sh - run notifyd against the real peers for a long time at a steady
# load with random faults, then report what was produced, delivered,
# dead-lettered and duplicated, and notifyd's resident memory and
# goroutines at the start and the end (e2e/soak_test.go, TestSoak).
#
# Usage:
#   scripts/soak.sh [DURATION]          default 30m (Go duration: 90s, 30m, 2h)
#   NOTIFYD_SOAK=2h scripts/soak.sh     the same
#
# Environment:
#   NOTIFYD_SOAK          the duration, if not given as an argument
#   NOTIFYD_FAULT_SEED    replay the random faults of an earlier run (its
#                         seed is in its output)
#   NOTIFYD_FAULT_LOGDIR  keep notifyd's whole log there (notifyd-soak.log)
#   SOAK_LOG              where the test's output goes (default
#                         soak-YYYYmmdd-HHMMSS.log in the current directory)
#
# Needs what make test needs (root for Cyrus and for the disk-full faults;
# the peers are installed first). The summary lines start with "soak:".
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-${NOTIFYD_SOAK:-30m}}"
log="${SOAK_LOG:-soak-$(date +%Y%m%d-%H%M%S).log}"

# seconds DURATION: a Go duration (h, m, s parts) in whole seconds.
seconds() {
  local d="$1" total=0 n unit
  [[ $d =~ ^([0-9]+[hms])+$ ]] || { echo "soak.sh: bad duration $d (want e.g. 90s, 30m, 1h30m)" >&2; exit 2; }
  while [[ $d =~ ^([0-9]+)([hms])(.*)$ ]]; do
    n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]} d=${BASH_REMATCH[3]}
    case $unit in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
  done
  echo "$total"
}

# The test settles for up to 10 minutes after the load; setting up takes a
# minute or two.
timeout=$(( $(seconds "$duration") + 20 * 60 ))s
scripts/peers/install.sh
echo "soak: $duration (go test timeout $timeout), output in $log"
status=0
NOTIFYD_SOAK="$duration" go test -count=1 -run '^TestSoak$' -v -timeout "$timeout" ./e2e/ >"$log" 2>&1 || status=$?
grep -E '^\s+(soak_test|faults_rig_test)\.go:[0-9]+: (soak:|random seed|reconciliation)' "$log" | sed -E 's/^\s+//' || true
grep -E '^(--- |ok|FAIL)' "$log" || true
[ $status -eq 0 ] || echo "soak failed (status $status): see $log" >&2
exit $status
