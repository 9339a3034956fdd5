#!/usr/bin/env bash
# The README's test command (make test) and what CI runs: formatting, vet,
# the static build the Dockerfile makes, the unit and API tests with the
# race detector (the store, engine and API suites on SQLite and again on
# a private PostgreSQL 15 cluster), and the end-to-end tests against the
# real binary.
# It installs what the tests need by itself (gcc for -race).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

if ! command -v go >/dev/null; then
  echo "Go is not installed: install Go $(sed -n 's/^go //p' go.mod) or later (https://go.dev/dl/)" >&2
  exit 1
fi
if ! command -v gcc >/dev/null; then
  say "installing gcc (the race detector needs cgo)"
  apt-get update -qq && apt-get install -y -qq gcc >/dev/null
fi

say "peers (Cyrus IMAP, SMTP sink, Prosody, Prism, PostgreSQL, Radicale, Xandikos) for the end-to-end tests"
scripts/peers/install.sh

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted (run gofmt -w)" >&2
  exit 1
fi

say "go vet"
go vet ./...

say "static build (as in the Dockerfile)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /dev/null ./cmd/notifyd

say "unit and API tests, with the race detector"
go test -race -count=1 $(go list ./... | grep -v /e2e)

say "store, engine and API suites again on PostgreSQL (a private cluster on a loopback port)"
NOTIFYD_TEST_DATABASE=postgres go test -race -count=1 ./store/ ./engine/ ./api/

say "end-to-end tests against the real binary"
# Past go test's default 10 minutes: the suite runs the real peers and
# waits for digests, quiet hours and throttle periods to end.
go test -count=1 -timeout 50m -v ./e2e/
