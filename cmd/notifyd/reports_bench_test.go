package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/store"
)

// benchReports is the mix of reports the benchmark applies, in turn: the
// bounce package's fixtures, with the recipient each names.
var benchReports = []struct{ file, rcpt string }{
	{"rfc3464.eml", "wilma@example.net"},               // hard: bounced, suppressed
	{"postfix-delayed.eml", "barney@slow.example.com"}, // soft: an event
	{"gmail.eml", "nobody.here@gmail.com"},             // hard
	{"qmail.eml", "dino@example.com"},                  // hard, plain text
	{"yahoo-arf.eml", "wilma@yahoo.com"},               // complaint: suppressed
	{"microsoft-jmrp.eml", ""},                         // complaint, recipient redacted
	{"arf-headers-only.eml", "betty@comcast.net"},      // complaint, headers only
}

// benchWorld is a database with n sent emails, each to its own address,
// and a report about each, as it arrives: raw[i] for envelope recipient
// rcpt[i] (the delivery's bounce address, or the feedback address for a
// complaint).
type benchWorld struct {
	db        *store.DB
	v         *bounce.VERP
	raw       [][]byte
	rcpt      []string
	handle    bounce.Handler
	delivered atomic.Int64
}

func newBenchWorld(b *testing.B, n int) *benchWorld {
	b.Helper()
	w := &benchWorld{db: reportDB(b), v: fixtureVERP(b)}
	w.handle = recordReports(w.db, slog.New(slog.NewTextHandler(io.Discard, nil)), newReportMetrics(nil))
	const batch = 500
	for start := 0; start < n; start += batch {
		var ids, addrs []string
		for i := start; i < min(n, start+batch); i++ {
			ids = append(ids, fmt.Sprintf("d%08d", i))
			addrs = append(addrs, fmt.Sprintf("user%d@example.net", i))
		}
		sentEmails(b, w.db, ids, addrs)
	}
	for i := range n {
		id, addr := fmt.Sprintf("d%08d", i), fmt.Sprintf("user%d@example.net", i)
		f := benchReports[i%len(benchReports)]
		raw := string(fixtureFor(b, w.v, f.file, id))
		if f.rcpt != "" {
			raw = strings.ReplaceAll(raw, f.rcpt, addr)
		}
		rcpt, _ := w.v.Address(id)
		if strings.Contains(raw, "feedback-report") {
			rcpt = w.v.FeedbackAddress()
		}
		w.raw, w.rcpt = append(w.raw, []byte(raw)), append(w.rcpt, rcpt)
	}
	return w
}

// apply parses report i and applies it.
func (w *benchWorld) apply(b *testing.B, i int) {
	r, err := bounce.Parse(w.raw[i], w.rcpt[i], w.v)
	if err != nil {
		b.Fatalf("report %d: %v", i, err)
	}
	if err := w.handle(context.Background(), r); err != nil {
		b.Fatalf("report %d: %v", i, err)
	}
}

// check fails b unless every report left its mark: the hard bounces and
// complaints suppressed their addresses.
func (w *benchWorld) check(b *testing.B) {
	b.Helper()
	got := 0
	f := store.SuppressionFilter{Limit: 1000}
	for {
		page, err := w.db.Suppressions(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		got += len(page)
		if len(page) < f.Limit {
			break
		}
		f.AfterTime, f.AfterID = page[len(page)-1].CreatedAt, page[len(page)-1].ID
	}
	want := 0
	for i := range w.raw {
		if benchReports[i%len(benchReports)].file != "postfix-delayed.eml" {
			want++
		}
	}
	if got != want {
		b.Fatalf("%d suppressions, want %d", got, want)
	}
}

// BenchmarkBounceReports measures bounce reports and complaints parsed
// and applied to their deliveries (store.RecordBounce and
// RecordComplaint, each a durable write), each report about a delivery
// of its own: on SQLite, or on PostgreSQL with
// NOTIFYD_TEST_DATABASE=postgres. apply: one after the other, as one
// sender's connection brings them; parallel: 8 at once (several
// connections, or the listener and the mailbox), sharing commits;
// listener: through the SMTP listener, one connection, a transaction per
// report. Run with -benchtime Nx (the database gets N deliveries first).
func BenchmarkBounceReports(b *testing.B) {
	b.Run("apply", func(b *testing.B) {
		w := newBenchWorld(b, b.N)
		b.ResetTimer()
		for i := range b.N {
			w.apply(b, i)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		w.check(b)
	})
	b.Run("parallel", func(b *testing.B) {
		w := newBenchWorld(b, b.N)
		var next atomic.Int64
		b.SetParallelism(4) // 8 goroutines on 2 cores
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.apply(b, int(next.Add(1)-1))
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		w.check(b)
	})
	b.Run("listener", func(b *testing.B) {
		w := newBenchWorld(b, b.N)
		l, err := bounce.Listen(bounce.ListenerOptions{Addr: "127.0.0.1:0", VERP: w.v, Handle: w.handle,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		go l.Serve()
		defer l.Close()
		c, err := smtp.Dial(l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ResetTimer()
		for i := range b.N {
			if err := sendReport(c, w.rcpt[i], w.raw[i]); err != nil {
				b.Fatalf("report %d: %v", i, err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		w.check(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Quit()
		_ = l.Shutdown(ctx)
	})
}

// sendReport sends raw from the null sender to rcpt over c.
func sendReport(c *smtp.Client, rcpt string, raw []byte) error {
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(raw); err != nil {
		return err
	}
	return wc.Close()
}
