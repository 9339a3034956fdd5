package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// How the end-to-end tests wait. A test waits for an event, never for a
// while, and never sleeps and then asserts.
//
//   - An event the test process sees: a channel, inotify on the SMTP
//     sink's Maildir (peertest.SMTP.Await), an XMPP server's answer
//     (peertest.XMPPUser.Sync), a line of notifyd's log (waitLog), a
//     request to a receiver the test runs.
//   - Otherwise a state of another process that offers no event: the
//     notifyd binary's metrics, API or database, Cyrus's collections.
//     Those are polled by waitUntil (peertest.Poll), the only poll loop,
//     with deadlines of minutes: see peertest.Poll for why that cannot
//     flake.
//   - "Nothing more happens" is never a pause: notifyd is idle (waitIdle)
//     once its job queue holds no unfinished job, and then every message
//     it will send for what it was asked is in the peers.

// pollInterval is how often waitUntil looks again.
const pollInterval = 50 * time.Millisecond

// waitUntil returns once done holds, looking every pollInterval (see
// peertest.Poll); after timeout it fails the test with failure's answer,
// which says what was awaited and what was seen.
func waitUntil(tb testing.TB, timeout time.Duration, done func() bool, failure func() string) {
	tb.Helper()
	waitUntilEvery(tb, pollInterval, timeout, done, failure)
}

// waitUntilEvery is waitUntil looking every interval: a benchmark that
// measures when something happens looks more often.
func waitUntilEvery(tb testing.TB, interval, timeout time.Duration, done func() bool, failure func() string) {
	tb.Helper()
	if !peertest.Poll(timeout, interval, done) {
		tb.Fatalf("after %s: %s", timeout, failure())
	}
}

// waitFor is waitUntil with a fixed description of what was awaited.
func waitFor(tb testing.TB, timeout time.Duration, what string, done func() bool) {
	tb.Helper()
	waitUntil(tb, timeout, done, func() string { return "still waiting for " + what })
}

// waitFinal waits until list returns at least n deliveries (as the API
// lists them), all final (sent, failed, skipped or suppressed), and returns them; after
// timeout it fails the test with what it saw and context's answer.
func waitFinal(tb testing.TB, timeout time.Duration, n int, list func() []map[string]any, context func() string) []map[string]any {
	tb.Helper()
	var ds []map[string]any
	final := 0
	waitUntil(tb, timeout, func() bool {
		ds, final = list(), 0
		for _, d := range ds {
			if s := d["status"]; s == "sent" || s == "failed" || s == "skipped" || s == "suppressed" {
				final++
			}
		}
		return len(ds) >= n && final == len(ds)
	}, func() string {
		return fmt.Sprintf("%d deliveries (%d final), want %d final\n%v\n%s", len(ds), final, n, ds, context())
	})
	return ds
}

// backlogKinds are the kinds of work of notifyd_backlog{work}.
var backlogKinds = []string{"syncs", "deliveries", "policies", "published", "updates"}

// queueIdle reports whether notifyd at baseURL has nothing to do now or
// later: notifyd_backlog, which notifyd counts in its database at each
// scrape, is 0 for every kind of work (a kind missing, not counted, is not
// idle). That covers work waiting for its time (a sync or a delivery to
// retry, counted until it is final) and the after-delivery policies a
// kill interrupted, which no job holds until the sweep queues them.
func queueIdle(tb testing.TB, baseURL string) bool {
	tb.Helper()
	m, err := scrape(baseURL)
	if err != nil {
		tb.Fatal(err)
	}
	for _, work := range backlogKinds {
		if n, ok := m[`notifyd_backlog{work="`+work+`"}`]; !ok || n > 0 {
			return false
		}
	}
	return true
}

// waitIdle waits until notifyd has nothing left to do (queueIdle). A
// ping's principal is marked before its 202, a sync creates its deliveries
// before it ends, and a delivery is final once the peer has taken the
// message: once idle, notifyd has sent every message it will send for the
// pings answered so far (a peer may still be passing one on to its
// recipient: an XMPP client, see peertest.XMPPUser.Sync).
func waitIdle(tb testing.TB, nd *instance, timeout time.Duration) {
	tb.Helper()
	waitUntil(tb, timeout, func() bool { return queueIdle(tb, nd.baseURL) }, func() string {
		m, _ := scrape(nd.baseURL)
		var backlog []string
		for k, v := range m {
			if strings.HasPrefix(k, "notifyd_backlog") && v > 0 {
				backlog = append(backlog, fmt.Sprintf("%s %v", k, v))
			}
		}
		return fmt.Sprintf("notifyd is not idle: %v\nnotifyd log (end):\n%s", backlog, tail(nd.log.String(), 40))
	})
}

// waitMetric waits until the metric series of nd reaches n.
func waitMetric(tb testing.TB, nd *instance, series string, n float64, timeout time.Duration) {
	tb.Helper()
	waitUntil(tb, timeout, func() bool { return metric(tb, nd, series) >= n }, func() string {
		return fmt.Sprintf("%s is %v, below %v\nnotifyd log (end):\n%s", series, metric(tb, nd, series), n, tail(nd.log.String(), 40))
	})
}

// logMark returns where the next line of notifyd's log will start, for
// waitLog and awaitLog to read from there.
func (in *instance) logMark() int {
	in.log.mu.Lock()
	defer in.log.mu.Unlock()
	return bytes.LastIndexByte(in.log.buf.Bytes(), '\n') + 1
}

// waitLog waits until n lines of notifyd's log from since (a logMark)
// contain every one of parts, and returns how many do (awaitLog).
func (in *instance) waitLog(tb testing.TB, timeout time.Duration, since, n int, parts ...string) int {
	tb.Helper()
	got := 0
	in.awaitLog(tb, timeout, since, fmt.Sprintf("%d lines with %q", n, parts), func(line string) bool {
		if containsAll(line, parts) {
			got++
		}
		return got >= n
	})
	return got
}

// awaitLog calls each with every line of notifyd's log from since (a
// logMark), as notifyd writes it (an event: the test reads notifyd's
// output), until each returns true; after timeout it fails the test,
// saying it waited for what.
func (in *instance) awaitLog(tb testing.TB, timeout time.Duration, since int, what string, each func(line string) bool) {
	tb.Helper()
	if !in.log.await(timeout, since, each) {
		tb.Fatalf("after %s, notifyd's log shows no %s\nnotifyd log (end):\n%s", timeout, what, tail(in.log.String(), 40))
	}
}

// await calls each with every complete line written from offset off, in
// order, until it returns true (true), or until timeout (false). It reads
// each line once, and looks again at each write.
func (b *logBuffer) await(timeout time.Duration, off int, each func(line string) bool) bool {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		data := b.buf.Bytes()
		var chunk string
		if end := bytes.LastIndexByte(data[off:], '\n'); end >= 0 {
			chunk = string(data[off : off+end+1])
			off += end + 1
		}
		changed := b.changedLocked()
		b.mu.Unlock()
		for _, line := range strings.Split(strings.TrimSuffix(chunk, "\n"), "\n") {
			if chunk != "" && each(line) {
				return true
			}
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

// containsAll reports whether s contains every one of parts.
func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
