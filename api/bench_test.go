package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/subscriptions"
)

// benchHandler is the whole API over a real store: a SQLite file in a
// temp dir, or a PostgreSQL database (testdb).
func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := testdb.Open(b)
	q, err := engine.NewQueue(db, log)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	if _, err := q.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	intake := engine.NewIntake(db, q)
	b.Cleanup(intake.Close)
	publisher := engine.NewPublisher(db, q)
	b.Cleanup(publisher.Close)
	reg := prometheus.NewRegistry()
	h, err := api.New(api.Options{
		Systems:       []api.System{{Name: "bench", Tokens: []string{"bench-token-0123456789"}}},
		MaxBodyBytes:  1 << 20,
		Intake:        intake,
		Publisher:     publisher,
		Subscriptions: subscriptions.NewService(db, func(string) bool { return true }),
		Gatherer:      reg,
		Metrics:       api.NewMetrics(reg),
		Logger:        log,
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkPing measures a one-href ping for a distinct principal through
// the whole handler (contract validation, authentication, durable group
// commit), without the network: the server-side cost per ping.
func BenchmarkPing(b *testing.B) {
	h := benchHandler(b)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"system":"bench","token":"bench-token-0123456789","hrefs":["/principals/users/u%d"]}`, n.Add(1))
			req := httptest.NewRequest(http.MethodPost, "/v1/notifications", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkPublish measures a published event creation (a small
// text/calendar payload) for a distinct event through the whole handler
// (contract validation, authentication, the payload's parsing, durable
// group commit), without the network: the server-side cost per publish,
// to compare with BenchmarkPing's.
func BenchmarkPublish(b *testing.B) {
	h := benchHandler(b)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"system":"bench","token":"bench-token-0123456789","topic":"event-create","principal":"/principals/users/u%d",`+
				`"content_type":"text/calendar","payload":"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n`+
				`UID:e%d@bench.example.org\r\nDTSTAMP:20261201T080000Z\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\n`+
				`SUMMARY:Benchmark event\r\nLOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}`, i, i)
			req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkHostilePing measures the 1 MiB pings of the hardening probe
// through the whole handler: 349,000 wrong hrefs or 60,000 unknown
// members, without a valid token and with one.
func BenchmarkHostilePing(b *testing.B) {
	h := benchHandler(b)
	const token = `"token":"bench-token-0123456789",`
	for _, bc := range []struct {
		name string
		body []byte
		want int
	}{
		{"unknown-system/hrefs", hostileBody(`{"system":"nosuch","hrefs":[`, "1", "]}", false), http.StatusUnauthorized},
		{"unknown-system/members", hostileBody(`{"system":"nosuch",`, "1", "}", true), http.StatusUnauthorized},
		{"valid-token/hrefs", hostileBody(`{"system":"bench",`+token+`"hrefs":[`, "1", "]}", false), http.StatusBadRequest},
		{"valid-token/members", hostileBody(`{"system":"bench",`+token, "1", "}", true), http.StatusBadRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/notifications", bytes.NewReader(bc.body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != bc.want {
					b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
				}
			}
		})
	}
}
