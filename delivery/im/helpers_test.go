package im

import (
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"
)

var paris, _ = time.LoadLocation("Europe/Paris")

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// reachOf returns what the channel knows of addr's presence right now.
func (c *Channel) reachOf(addr string) string {
	ct, ok := c.contactOf(addr)
	switch {
	case !ok:
		return "unknown"
	case len(ct.resources) > 0:
		return "online"
	case ct.sub.visible() && ct.heard:
		return "offline"
	default:
		return "undecided"
	}
}

// contactOf returns a copy of what the channel knows of addr.
func (c *Channel) contactOf(addr string) (contact, bool) {
	c.book.mu.Lock()
	defer c.book.mu.Unlock()
	ct := c.book.r.contacts[bareKey(addr)]
	if ct == nil {
		return contact{}, false
	}
	cp := *ct
	cp.resources = maps.Clone(ct.resources)
	return cp, true
}

// isWatched reports whether the channel watches addr.
func (c *Channel) isWatched(addr string) bool {
	c.book.mu.Lock()
	defer c.book.mu.Unlock()
	_, ok := c.book.r.watched[bareKey(addr)]
	return ok
}
