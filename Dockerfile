# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO_ENABLED=0; SQLite is pure Go)
# in a distroless image, running as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/notifyd ./cmd/notifyd \
 && mkdir -p /out/state/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/notifyd /usr/local/bin/notifyd
# The embedded database lives here, owned by the nonroot user (65532);
# mount a volume to keep it.
COPY --from=build --chown=65532:65532 /out/state /var/lib/notifyd
WORKDIR /var/lib/notifyd
ENV NOTIFYD_DATA_DIR=/var/lib/notifyd/data \
    NOTIFYD_HTTP_ADDR=0.0.0.0:8080
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/notifyd"]
CMD ["serve"]
