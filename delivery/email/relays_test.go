package email

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// fakeClock is the relay set's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// relayChannel returns an email channel whose primary relay is primary
// and whose fallback relays are fallbacks (host:port each), on a fake
// clock.
func relayChannel(t *testing.T, primary string, fallbacks ...string) (*Channel, *fakeClock) {
	t.Helper()
	hostPort := func(a string) (string, int) {
		h, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for _, c := range p {
			n = n*10 + int(c-'0')
		}
		return h, n
	}
	cfg := config.SMTP{TLS: config.TLSNone, From: "notifyd <notifications@example.org>", Timeout: 5 * time.Second}
	cfg.Host, cfg.Port = hostPort(primary)
	for _, f := range fallbacks {
		h, p := hostPort(f)
		cfg.FallbackRelays = append(cfg.FallbackRelays, config.SMTPRelay{Host: h, Port: p, TLS: config.TLSNone})
	}
	c, err := NewChannel(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	clk := &fakeClock{t: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	c.relays.now = clk.now
	return c, clk
}

// closedAddr is a local address nothing listens on: a relay that is down.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func (ts *testServer) setDown(down bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.down = down
}

func (ts *testServer) sessionCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.sessions
}

// gotMessageIDs lists the Message-ID of every message ts received.
func gotMessageIDs(ts *testServer) []string {
	var ids []string
	for _, r := range ts.received() {
		for _, l := range strings.Split(string(r.data), "\r\n") {
			if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
				ids = append(ids, v)
			}
		}
	}
	return ids
}

// onlyOnce fails unless each of ids was received exactly once across the
// servers.
func onlyOnce(t *testing.T, ids []string, servers ...*testServer) {
	t.Helper()
	count := map[string]int{}
	for _, ts := range servers {
		for _, id := range gotMessageIDs(ts) {
			count[id]++
		}
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("message %s received %d times across the relays, want once", id, count[id])
		}
		delete(count, id)
	}
	for id, n := range count {
		t.Errorf("unexpected message %s received %d times", id, n)
	}
}

func TestRelaysPrimaryDownSecondaryDelivers(t *testing.T) {
	down := closedAddr(t)
	ts := startServer(t, serverOptions{})
	c, _ := relayChannel(t, down, ts.addr)
	m := testMessage("a@example.org", "1")
	if err := c.relays.send(context.Background(), m); err != nil {
		t.Fatalf("send: %v, want the fallback relay to take it", err)
	}
	onlyOnce(t, []string{m.MessageID}, ts)
	want := strings.NewReader(`
# HELP notifyd_email_relay_accepted_total Email messages accepted by each SMTP relay (host:port).
# TYPE notifyd_email_relay_accepted_total counter
notifyd_email_relay_accepted_total{relay="` + down + `"} 0
notifyd_email_relay_accepted_total{relay="` + ts.addr + `"} 1
# HELP notifyd_email_relay_cooling_down 1 while an SMTP relay (host:port) is skipped after failures, else 0.
# TYPE notifyd_email_relay_cooling_down gauge
notifyd_email_relay_cooling_down{relay="` + down + `"} 1
notifyd_email_relay_cooling_down{relay="` + ts.addr + `"} 0
# HELP notifyd_email_relay_failures_total Email sends that failed at each SMTP relay (host:port): down, refusing for now, or refusing the recipient.
# TYPE notifyd_email_relay_failures_total counter
notifyd_email_relay_failures_total{relay="` + down + `"} 1
notifyd_email_relay_failures_total{relay="` + ts.addr + `"} 0
`)
	if err := testutil.CollectAndCompare(c, want, "notifyd_email_relay_accepted_total",
		"notifyd_email_relay_cooling_down", "notifyd_email_relay_failures_total"); err != nil {
		t.Error(err)
	}
}

func TestRelaysPrimaryBackAfterCoolDown(t *testing.T) {
	primary := startServer(t, serverOptions{})
	second := startServer(t, serverOptions{})
	c, clk := relayChannel(t, primary.addr, second.addr)
	ctx := context.Background()
	primary.setDown(true)
	m1 := testMessage("one@example.org", "1")
	if err := c.relays.send(ctx, m1); err != nil {
		t.Fatal(err)
	}
	if len(second.received()) != 1 || len(primary.received()) != 0 {
		t.Fatalf("primary got %d, second %d; want the second relay to take it", len(primary.received()), len(second.received()))
	}
	primary.setDown(false)
	sessions := primary.sessionCount()

	// Within the cool-down, the primary is not even tried.
	clk.advance(coolDownMin - time.Second)
	m2 := testMessage("two@example.org", "2")
	if err := c.relays.send(ctx, m2); err != nil {
		t.Fatal(err)
	}
	if n := primary.sessionCount(); n != sessions {
		t.Errorf("the primary relay was tried %d times during its cool-down", n-sessions)
	}

	// After it, the primary comes first again.
	clk.advance(time.Second)
	m3 := testMessage("three@example.org", "3")
	if err := c.relays.send(ctx, m3); err != nil {
		t.Fatal(err)
	}
	if ids := gotMessageIDs(primary); len(ids) != 1 || ids[0] != m3.MessageID {
		t.Errorf("primary got %v, want %s after its cool-down", ids, m3.MessageID)
	}
	onlyOnce(t, []string{m1.MessageID, m2.MessageID, m3.MessageID}, primary, second)
}

func TestRelaysCoolDownBacksOff(t *testing.T) {
	primary := startServer(t, serverOptions{})
	second := startServer(t, serverOptions{})
	c, clk := relayChannel(t, primary.addr, second.addr)
	primary.setDown(true)
	r := c.relays.relays[0]
	send := func(to string) {
		t.Helper()
		if err := c.relays.send(context.Background(), testMessage(to, "x")); err != nil {
			t.Fatal(err)
		}
	}
	send("a@example.org")
	for _, want := range []time.Duration{coolDownMin, 2 * coolDownMin, 4 * coolDownMin, 8 * coolDownMin, coolDownMax, coolDownMax} {
		if left := r.left(clk.now()); left != want {
			t.Fatalf("cool-down %s, want %s", left, want)
		}
		clk.advance(want)
		send("b@example.org") // the primary, tried again, still fails
	}
	primary.setDown(false)
	clk.advance(coolDownMax)
	send("c@example.org")
	if r.left(clk.now()) != 0 || len(primary.received()) != 1 {
		t.Fatalf("primary back: cool-down %s, received %d", r.left(clk.now()), len(primary.received()))
	}
	primary.setDown(true)
	primary.hangUp() // the kept session too
	send("d@example.org")
	if left := r.left(clk.now()); left != coolDownMin {
		t.Errorf("after a success the cool-down restarts at %s, got %s", coolDownMin, left)
	}
}

func TestRelaysTemporaryRefusalFailsOver(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(ts *testServer, to string)
	}{
		// A 421 at RCPT, or a 450/451 that speaks of rate, is the
		// recipient domain's: see TestChannelRateRefusalSlowsOnlyThatDomain.
		{"RCPT 450", func(ts *testServer, to string) {
			ts.refuse[to] = &smtpd.SMTPError{Code: 450, EnhancedCode: smtpd.EnhancedCode{4, 2, 1}, Message: "Mailbox busy"}
		}},
		{"end of DATA 421", func(ts *testServer, to string) {
			ts.dataRefuse[to] = &smtpd.SMTPError{Code: 421, EnhancedCode: smtpd.EnhancedCode{4, 3, 0}, Message: "Service shutting down"}
		}},
		{"end of DATA 451", func(ts *testServer, to string) {
			ts.dataRefuse[to] = &smtpd.SMTPError{Code: 451, EnhancedCode: smtpd.EnhancedCode{4, 3, 0}, Message: "Local error"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := startServer(t, serverOptions{})
			second := startServer(t, serverOptions{})
			c, _ := relayChannel(t, primary.addr, second.addr)
			m := testMessage("a@example.org", "1")
			tc.set(primary, "a@example.org")
			if err := c.relays.send(context.Background(), m); err != nil {
				t.Fatalf("send: %v, want the second relay to take it", err)
			}
			onlyOnce(t, []string{m.MessageID}, primary, second)
			if len(second.received()) != 1 {
				t.Error("the second relay did not get the message")
			}
		})
	}
}

func TestRelaysPermanentRefusalDoesNotFailOver(t *testing.T) {
	primary := startServer(t, serverOptions{})
	second := startServer(t, serverOptions{})
	c, clk := relayChannel(t, primary.addr, second.addr)
	primary.refuse["gone@example.org"] = &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "No such user"}
	req := &delivery.Request{Address: "gone@example.org"}
	_, err := c.send(context.Background(), req, testMessage("gone@example.org", "1"))
	var se *SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("send: %v, want the primary's 550", err)
	}
	if tmp, _ := delivery.IsTemporary(err); tmp {
		t.Errorf("send: %v is temporary", err)
	}
	if n := second.sessionCount(); n != 0 {
		t.Errorf("the second relay was tried (%d sessions) after a permanent refusal", n)
	}
	if c.relays.relays[0].left(clk.now()) != 0 {
		t.Error("a permanent refusal put the primary in a cool-down")
	}
}

func TestRelaysNoFailOverOnceDataSent(t *testing.T) {
	primary := startServer(t, serverOptions{})
	second := startServer(t, serverOptions{})
	c, _ := relayChannel(t, primary.addr, second.addr)
	// The primary reads the whole message, then hangs up before replying:
	// it may have the message.
	primary.drop["a@example.org"] = true
	m := testMessage("a@example.org", "1")
	err := c.relays.send(context.Background(), m)
	if err == nil || !IsTemporary(err) {
		t.Fatalf("send: %v, want a temporary error", err)
	}
	if n := second.sessionCount(); n != 0 {
		t.Errorf("the message went to the second relay after the first may have got it (%d sessions)", n)
	}
}

func TestRelaysAllCoolingDown(t *testing.T) {
	c, clk := relayChannel(t, closedAddr(t), closedAddr(t))
	req := &delivery.Request{Address: "a@example.org"}
	if _, err := c.send(context.Background(), req, testMessage("a@example.org", "1")); err == nil {
		t.Fatal("sent with every relay down")
	}
	clk.advance(10 * time.Second)
	_, err := c.send(context.Background(), req, testMessage("a@example.org", "1"))
	tmp, after := delivery.IsTemporary(err)
	if !tmp || after != coolDownMin-10*time.Second {
		t.Errorf("send with every relay cooling down: %v (temporary %v, retry after %s), want temporary after %s",
			err, tmp, after, coolDownMin-10*time.Second)
	}
}

func TestRelaysFixMessageID(t *testing.T) {
	// The Message-ID is kept across relays even when the message has none.
	c, _ := relayChannel(t, closedAddr(t), startServer(t, serverOptions{}).addr)
	m := testMessage("a@example.org", "1")
	m.MessageID = ""
	if err := c.relays.send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if m.MessageID == "" {
		t.Error("no Message-ID was fixed before the first relay")
	}
}

var _ prometheus.Collector = (*Channel)(nil)
