# notifyd — see README.md.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The same flags as the Dockerfile: a static, reproducible binary.
BUILDFLAGS = -trimpath -ldflags "-s -w -X main.version=$(VERSION)"

.PHONY: run build demo test bench soak fuzz lint

## run: the service on its embedded default (SQLite under ./data, 127.0.0.1:8080)
run:
	$(GO) run ./cmd/notifyd serve

## build: bin/notifyd, static (CGO_ENABLED=0)
build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/notifyd ./cmd/notifyd

## demo: notifyd with its console against Cyrus and an SMTP sink, until Ctrl-C (as root)
demo: build
	scripts/peers/install.sh cyrus smtp
	$(GO) build -o bin/notifyd-demo ./cmd/notifyd-demo
	bin/notifyd-demo -notifyd bin/notifyd

## test: everything CI runs (format, vet, race tests, end-to-end tests)
test:
	scripts/test.sh

## bench: ping intake load test against the real binary (figures, not pass/fail)
bench:
	scripts/bench.sh

## soak: 30 minutes of steady load with random faults (SOAK=2h for longer; figures at the end)
soak:
	scripts/soak.sh $(SOAK)

## fuzz: the API's request fuzzer for FUZZTIME (default 2m): no 5xx, bounded answers and memory
fuzz:
	$(GO) test -run XXX -fuzz FuzzRequests -fuzztime $(or $(FUZZTIME),2m) ./api/

## lint: gofmt and go vet only
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w"; exit 1; }
	$(GO) vet ./...
