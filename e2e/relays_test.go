package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// relayWorld is notifyd with two SMTP sinks as its relays: w.sink the
// primary (channels.smtp.host), second the fallback relay.
type relayWorld struct {
	*publishWorld
	second *peertest.SMTP
}

func newRelayWorld(t *testing.T, env ...string) *relayWorld {
	t.Helper()
	second := peertest.StartSMTP(t)
	ca := filepath.Join(t.TempDir(), "second-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, second), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newPublishWorld(t, append(env, fmt.Sprintf(`NOTIFYD_CHANNELS_SMTP_FALLBACK_RELAYS=[{"host":%q,"port":%d,"tls":"starttls","ca_file":%q,"timeout":"5s"}]`,
		second.Host, second.Port, ca))...)
	return &relayWorld{publishWorld: w, second: second}
}

// newEvent publishes a new event for wilma: one email.
func (w *relayWorld) newEvent(t *testing.T, uid string) {
	t.Helper()
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "component_source": "WCAP",
		"content_type": "text/calendar", "payload": alarmICS(uid, "Event "+uid)}); code != http.StatusAccepted {
		t.Fatalf("event-create %s: %d %v", uid, code, body)
	}
}

// messageIDs counts the Message-IDs the sinks stored, across them.
func messageIDs(t *testing.T, sinks ...*peertest.SMTP) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, s := range sinks {
		for _, m := range s.Messages(t) {
			ids[m.Header.Get("Message-ID")]++
		}
	}
	return ids
}

// awaitPrimaryUsable waits until notifyd's primary relay is out of its
// cool-down.
func (w *relayWorld) awaitPrimaryUsable(t *testing.T) {
	t.Helper()
	key := fmt.Sprintf(`notifyd_email_relay_cooling_down{relay="%s"}`, w.sink.Addr)
	waitUntil(t, 2*time.Minute, func() bool {
		m, err := scrape(w.nd.baseURL)
		return err == nil && m[key] == 0
	}, func() string { return "the primary relay is still cooling down" })
}

// The primary relay (an SMTP sink) is down: the email goes through the
// fallback relay (a second sink) in the same attempt; once the primary
// is back and its cool-down over, the next email goes through it again;
// no message arrives twice across the switch, and each relay's accepted
// messages are counted.
func TestRelaysFailOverAndBack(t *testing.T) {
	w := newRelayWorld(t)
	w.sink.Stop(t)
	w.newEvent(t, "relay-1")
	w.second.Await(t, time.Minute, "the first email at the fallback relay", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })

	w.sink.Start(t)
	w.awaitPrimaryUsable(t)
	w.newEvent(t, "relay-2")
	w.sink.Await(t, time.Minute, "the second email at the primary relay", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	waitIdle(t, w.nd, time.Minute)

	if n, m := len(w.sink.Messages(t)), len(w.second.Messages(t)); n != 1 || m != 1 {
		t.Errorf("primary got %d emails, fallback %d; want 1 each", n, m)
	}
	for id, n := range messageIDs(t, w.sink, w.second) {
		if n != 1 {
			t.Errorf("%s arrived %d times across the relays", id, n)
		}
	}
	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want float64
	}{
		{fmt.Sprintf(`notifyd_email_relay_accepted_total{relay="%s"}`, w.sink.Addr), 1},
		{fmt.Sprintf(`notifyd_email_relay_accepted_total{relay="%s"}`, w.second.Addr), 1},
		{fmt.Sprintf(`notifyd_email_relay_failures_total{relay="%s"}`, w.sink.Addr), 1},
	} {
		if m[c.key] != c.want {
			t.Errorf("%s = %v, want %v", c.key, m[c.key], c.want)
		}
	}
}

// notifyd is SIGKILLed while the fallback relay holds its reply to a
// message it has stored (the primary being down): after the restart
// that message is sent again, under the same Message-ID (the only
// duplicate a relay switch can make, and one receivers can drop), the
// next email goes through the fallback relay, and once the primary is
// back the one after through the primary; every other email arrives
// once.
func TestRelaysSIGKILLDuringFailOver(t *testing.T) {
	w := newRelayWorld(t, "NOTIFYD_JOBS_TIMEOUT=5s", "NOTIFYD_JOBS_RESCUE_AFTER=8s")
	w.sink.Stop(t)
	w.second.SetRules(t, peertest.Rules{HoldReplies: true})
	w.newEvent(t, "relay-k1")
	w.second.WaitHeld(t, 1, time.Minute)
	w.nd.kill()
	w.second.SetRules(t, peertest.Rules{})
	w.nd.start()

	w.newEvent(t, "relay-k2")
	has := func(m []peertest.ReceivedMessage, uid string) int {
		n := 0
		for _, x := range m {
			if strings.Contains(mailSubject(x)+x.Text, uid) {
				n++
			}
		}
		return n
	}
	w.second.Await(t, time.Minute, "k2 at the fallback relay", func(m []peertest.ReceivedMessage) bool { return has(m, "relay-k2") >= 1 })
	waitIdle(t, w.nd, 2*time.Minute)
	w.sink.Start(t)
	w.awaitPrimaryUsable(t)
	w.newEvent(t, "relay-k3")
	w.sink.Await(t, time.Minute, "k3 at the primary relay", func(m []peertest.ReceivedMessage) bool { return has(m, "relay-k3") >= 1 })
	waitIdle(t, w.nd, time.Minute)

	primary, second := w.sink.Messages(t), w.second.Messages(t)
	for _, c := range []struct {
		uid             string
		primary, second int
		secondMayRepeat bool
	}{
		{"relay-k1", 0, 1, true},
		{"relay-k2", 0, 1, false},
		{"relay-k3", 1, 0, false},
	} {
		p, s := has(primary, c.uid), has(second, c.uid)
		if p != c.primary || (s != c.second && !(c.secondMayRepeat && s == 2)) {
			t.Errorf("%s: %d at the primary, %d at the fallback; want %d and %d", c.uid, p, s, c.primary, c.second)
		}
	}
	ids := messageIDs(t, w.sink, w.second)
	if len(ids) != 3 {
		t.Errorf("%d distinct Message-IDs, want 3 (a message sent again keeps its Message-ID): %v", len(ids), ids)
	}
}
