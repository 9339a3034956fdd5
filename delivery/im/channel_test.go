package im

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

const wilmaJID = "wilma@example.org"

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		policy  string
		reach   reachability
		send    bool
		skipped string
		fall    bool
	}{
		{notifyd.PresenceOnlineOnly, online, true, "", false},
		{notifyd.PresenceOnlineOnly, offline, false, ReasonOffline, false},
		{notifyd.PresenceOnlineOnly, invisible, false, ReasonOffline + ": why", false},
		{notifyd.PresenceStore, online, true, "", false},
		{notifyd.PresenceStore, offline, true, "", false},
		{notifyd.PresenceStore, invisible, true, "", false},
		{notifyd.PresenceFallback, online, true, "", false},
		{notifyd.PresenceFallback, offline, false, "", true},
		{notifyd.PresenceFallback, invisible, false, "", true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.policy, tc.reach), func(t *testing.T) {
			send, res, err := decide(tc.policy, tc.reach, wilmaJID, "why")
			if send != tc.send || res.Skipped != tc.skipped || errors.Is(err, delivery.ErrFallback) != tc.fall {
				t.Fatalf("decide = %v %+v %v", send, res, err)
			}
			if tc.fall {
				if tmp, _ := delivery.IsTemporary(err); tmp || !strings.Contains(err.Error(), wilmaJID) {
					t.Errorf("fallback error %v", err)
				}
			} else if err != nil {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestPolicyDefault(t *testing.T) {
	for in, want := range map[string]string{
		"":                         notifyd.PresenceOnlineOnly,
		"bogus":                    notifyd.PresenceOnlineOnly,
		notifyd.PresenceOnlineOnly: notifyd.PresenceOnlineOnly,
		notifyd.PresenceStore:      notifyd.PresenceStore,
		notifyd.PresenceFallback:   notifyd.PresenceFallback,
	} {
		if got := policy(notifyd.DeliveryMethod{Presence: in}); got != want {
			t.Errorf("policy(%q) = %q, want %q", in, got, want)
		}
	}
}

// mutual puts jid on the fake server's roster with a mutual subscription.
func (s *fakeServer) mutual(jid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roster[jid] = &fakeItem{sub: "both"}
	s.online[jid] = on
}

func request(addr, presence string) *delivery.Request {
	r := reminderRequest(addr, presence, "d1")
	return r
}

func TestSendFollowsPresence(t *testing.T) {
	srv := newFakeServer()
	srv.mutual(wilmaJID, true)
	c := fakeChannel(t, srv)
	ctx := context.Background()

	res, err := c.Send(ctx, request(wilmaJID, notifyd.PresenceOnlineOnly))
	if err != nil || res.Skipped != "" || res.ProviderID != "notifyd-d1" {
		t.Fatalf("online: %+v %v", res, err)
	}
	m := srv.sent()[0]
	if m.To != wilmaJID || m.ID != "notifyd-d1" || m.Lang != "en" || m.Hint != "no-store" ||
		!strings.HasPrefix(m.Body, "Reminder: “Stand-up” in “Work”\n") || !strings.Contains(m.Calendar, "BEGIN:VEVENT\r\n") {
		t.Errorf("message %+v", m)
	}

	srv.setOnline(wilmaJID, false)
	waitUntil(t, time.Second, "offline", func() bool { return c.reachOf(wilmaJID) == "offline" })
	res, err = c.Send(ctx, request(wilmaJID, notifyd.PresenceOnlineOnly))
	if err != nil || res.Skipped != ReasonOffline {
		t.Fatalf("offline, online_only: %+v %v", res, err)
	}
	_, err = c.Send(ctx, request(wilmaJID, notifyd.PresenceFallback))
	if !errors.Is(err, delivery.ErrFallback) {
		t.Fatalf("offline, fallback: %v", err)
	}
	if n := len(srv.sent()); n != 1 {
		t.Fatalf("%d messages sent, want still 1", n)
	}
	res, err = c.Send(ctx, request(wilmaJID, notifyd.PresenceStore))
	if err != nil || res.Skipped != "" {
		t.Fatalf("offline, store: %+v %v", res, err)
	}
	if m := srv.sent()[1]; m.Hint != "store" {
		t.Errorf("stored message %+v", m)
	}

	srv.setOnline(wilmaJID, true)
	waitUntil(t, time.Second, "online", func() bool { return c.reachOf(wilmaJID) == "online" })
	res, err = c.Send(ctx, request("Wilma@Example.org/laptop", notifyd.PresenceFallback))
	if err != nil || res.Skipped != "" {
		t.Fatalf("online again, fallback, full JID in other case: %+v %v", res, err)
	}
	if m := srv.sent()[2]; m.To != "Wilma@Example.org/laptop" {
		t.Errorf("sent to %q, want the address as given", m.To)
	}
}

// At login the server answers the probes before the roster comes: an
// offline contact is known offline at once, without waiting.
func TestOfflineAtLoginDecidedAtOnce(t *testing.T) {
	srv := newFakeServer()
	srv.mutual(wilmaJID, false)
	c := fakeChannel(t, srv, func(c *Channel) { c.settle = 5 * time.Second })
	start := time.Now()
	res, err := c.Send(context.Background(), request(wilmaJID, ""))
	if err != nil || res.Skipped != ReasonOffline {
		t.Fatalf("%+v %v", res, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
}

// A contact whose presence does not come (no answer to the probe) is
// waited for, then offline.
func TestUnheardContactIsOfflineAfterSettling(t *testing.T) {
	srv := newFakeServer()
	c := fakeChannel(t, srv)
	// A roster push makes wilma visible without any presence following.
	srv.mu.Lock()
	srv.roster[wilmaJID] = &fakeItem{sub: "to"}
	srv.rosterPush(srv.conn, wilmaJID)
	srv.mu.Unlock()
	waitUntil(t, time.Second, "visible", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		ct := c.contacts[wilmaJID]
		return ct != nil && ct.visible()
	})
	start := time.Now()
	res, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceOnlineOnly))
	if err != nil || res.Skipped != ReasonOffline {
		t.Fatalf("%+v %v", res, err)
	}
	if d := time.Since(start); d < c.settle/2 {
		t.Errorf("decided after %s, without waiting for the presence", d)
	}
}

func TestSendSubscribesOnDemand(t *testing.T) {
	srv := newFakeServer()
	srv.approve["fred@example.org"], srv.online["fred@example.org"] = true, true
	srv.approve["barney@example.org"] = true // offline
	srv.decline["betty@example.org"] = true
	c := fakeChannel(t, srv)
	ctx := context.Background()

	t.Run("approving client, online: sent", func(t *testing.T) {
		res, err := c.Send(ctx, request("fred@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != "" {
			t.Fatalf("%+v %v", res, err)
		}
		if srv.wrote("to='fred@example.org'", "type='subscribe'") != 1 || srv.wrote("to='fred@example.org'", "type='subscribed'") != 1 {
			t.Error("no subscription request and pre-approval")
		}
	})
	t.Run("approving client, offline: skipped after settling", func(t *testing.T) {
		res, err := c.Send(ctx, request("barney@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("nobody answers: skipped after the approval wait, with the reason", func(t *testing.T) {
		start := time.Now()
		res, err := c.Send(ctx, request("pebbles@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != ReasonOffline+": the presence subscription request to pebbles@example.org is not approved" {
			t.Fatalf("%+v %v", res, err)
		}
		if d := time.Since(start); d < c.approvalWait-50*time.Millisecond {
			t.Errorf("gave up after %s", d)
		}
		// A second message does not wait again, nor ask again.
		start = time.Now()
		if _, err := c.Send(ctx, request("pebbles@example.org", notifyd.PresenceFallback)); !errors.Is(err, delivery.ErrFallback) {
			t.Fatalf("fallback: %v", err)
		}
		if d := time.Since(start); d > c.approvalWait/2 {
			t.Errorf("waited %s again", d)
		}
		if n := srv.wrote("to='pebbles@example.org'", "type='subscribe'"); n != 1 {
			t.Errorf("asked %d times", n)
		}
		// store sends anyway.
		if res, err := c.Send(ctx, request("pebbles@example.org", notifyd.PresenceStore)); err != nil || res.Skipped != "" {
			t.Fatalf("store: %+v %v", res, err)
		}
	})
	t.Run("refused: skipped, not asked again", func(t *testing.T) {
		res, err := c.Send(ctx, request("betty@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || !strings.Contains(res.Skipped, "betty@example.org refused") {
			t.Fatalf("%+v %v", res, err)
		}
		c.refreshWith(t, "betty@example.org")
		if n := srv.wrote("to='betty@example.org'", "type='subscribe'"); n != 1 {
			t.Errorf("asked %d times", n)
		}
	})
}

// refreshWith runs one watch round with addrs.
func (c *Channel) refreshWith(t *testing.T, addrs ...string) {
	t.Helper()
	c.mu.Lock()
	c.list = func(context.Context) ([]string, error) { return addrs, nil }
	c.mu.Unlock()
	c.refresh()
}

func TestWatchAddresses(t *testing.T) {
	srv := newFakeServer()
	srv.mutual("fred@example.org", true)
	c := fakeChannel(t, srv, func(c *Channel) { c.watchEvery = 20 * time.Millisecond })
	calls := make(chan struct{}, 100)
	c.WatchAddresses(func(ctx context.Context) ([]string, error) {
		calls <- struct{}{}
		if len(calls) == 3 {
			return nil, errors.New("database busy") // keeps the previous list
		}
		return []string{wilmaJID, "fred@example.org", "not a JID", "WILMA@example.org"}, nil
	})
	srv.waitWrote(t, "to='wilma@example.org'", "type='subscribe'")
	srv.waitWrote(t, "to='wilma@example.org'", "type='subscribed'") // pre-approval: mutual at once when she asks
	for i := 0; i < 5; i++ {
		<-calls
	}
	if n := srv.wrote("to='wilma@example.org'", "type='subscribe'"); n != 1 {
		t.Errorf("wilma asked %d times, want once (the request is pending)", n)
	}
	if n := srv.wrote("fred@example.org", "type='subscribe"); n != 0 {
		t.Errorf("fred, already mutual, was asked again")
	}
	c.mu.Lock()
	_, watched := c.watched[wilmaJID]
	c.mu.Unlock()
	if !watched {
		t.Error("wilma not watched after a failed listing")
	}

	// A contact asks for notifyd's presence: approved; a watched one whose
	// presence is not visible is asked in return.
	srv.mu.Lock()
	srv.conn.push(xmppPresence("barney@example.org/x", "subscribe"))
	srv.mu.Unlock()
	srv.waitWrote(t, "to='barney@example.org'", "type='subscribed'")
	if n := srv.wrote("to='barney@example.org'", "type='subscribe'"); n != 0 {
		t.Error("an unwatched contact was asked for their presence")
	}
}

func TestConnectionDown(t *testing.T) {
	srv := newFakeServer()
	srv.dialErr = errors.New("connection refused")
	c := fakeChannel(t, srv)
	ctx := context.Background()
	start := time.Now()
	_, err := c.Send(ctx, request(wilmaJID, notifyd.PresenceStore))
	if tmp, _ := delivery.IsTemporary(err); !tmp || !errors.Is(err, errConnectionDown) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Send while the server is unreachable: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}

	srv.mu.Lock()
	srv.dialErr = nil
	srv.mu.Unlock()
	waitUntil(t, 5*time.Second, "the channel connects", c.connected)
	if res, err := c.Send(ctx, request(wilmaJID, notifyd.PresenceStore)); err != nil || res.Skipped != "" {
		t.Fatalf("after reconnecting: %+v %v", res, err)
	}

	srv.mu.Lock()
	srv.dialErr = errors.New("connection refused")
	srv.mu.Unlock()
	srv.drop()
	waitUntil(t, 5*time.Second, "the channel notices", func() bool { return !c.connected() })
	start = time.Now()
	_, err = c.Send(ctx, request(wilmaJID, notifyd.PresenceOnlineOnly))
	if tmp, _ := delivery.IsTemporary(err); !tmp {
		t.Fatalf("Send after the connection dropped: %v", err)
	}
	if d := time.Since(start); d > c.connectWait/2 {
		t.Errorf("waited %s for a connection while the server is known to be down", d)
	}
}

func TestNoConfirmationIsTemporary(t *testing.T) {
	srv := newFakeServer()
	srv.silent = true
	c := fakeChannel(t, srv)
	_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
	if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "no confirmation") {
		t.Fatalf("%v", err)
	}
}

func TestBounce(t *testing.T) {
	srv := newFakeServer()
	srv.bounce["nobody@example.org"] = "cancel/service-unavailable"
	srv.bounce["busy@example.org"] = "wait/resource-constraint"
	c := fakeChannel(t, srv)
	_, err := c.Send(context.Background(), request("nobody@example.org", notifyd.PresenceStore))
	if tmp, _ := delivery.IsTemporary(err); tmp || err == nil || !strings.Contains(err.Error(), "service-unavailable") {
		t.Fatalf("cancel: %v, want a permanent error naming the condition", err)
	}
	_, err = c.Send(context.Background(), request("busy@example.org", notifyd.PresenceStore))
	if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "resource-constraint") {
		t.Fatalf("wait: %v, want a temporary error", err)
	}
}

func TestKeepaliveGivesUpOnSilentServer(t *testing.T) {
	srv := newFakeServer()
	fakeChannel(t, srv, func(c *Channel) { c.keepalive, c.ackTimeout = 50*time.Millisecond, 50*time.Millisecond })
	srv.mu.Lock()
	srv.silent = true
	srv.mu.Unlock()
	srv.waitWrote(t, "<ping xmlns='urn:xmpp:ping'/>", "id='keepalive-")
	waitUntil(t, 5*time.Second, "the channel reconnects", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.dials >= 2
	})
}

func TestRateLimit(t *testing.T) {
	srv := newFakeServer()
	c := fakeChannel(t, srv, func(c *Channel) { c.limiter = delivery.NewLimiter(10, 1) })
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("4 messages at 10/s took %s", d)
	}
	// Skipped messages do not count.
	for i := 0; i < 5; i++ {
		c.Send(context.Background(), request("pebbles@example.org", notifyd.PresenceFallback))
	}
	if n := len(srv.sent()); n != 4 {
		t.Errorf("%d sent", n)
	}
}

func TestRosterPushAndQueries(t *testing.T) {
	srv := newFakeServer()
	c := fakeChannel(t, srv)
	srv.mu.Lock()
	srv.conn.push(xmppIQ("push1", "set", "", `<query xmlns="jabber:iq:roster"><item jid="fred@example.org" subscription="both"/></query>`))
	srv.conn.push(xmppIQ("spoof", "set", "mallory@example.org", `<query xmlns="jabber:iq:roster"><item jid="x@example.org" subscription="both"/></query>`))
	srv.conn.push(xmppIQ("disco1", "get", "fred@example.org/x", `<query xmlns="http://jabber.org/protocol/disco#info"/>`))
	srv.mu.Unlock()
	srv.waitWrote(t, "type='result'", "id='push1'")
	srv.waitWrote(t, "type='error'", "id='spoof'", "service-unavailable")
	srv.waitWrote(t, "type='error'", "id='disco1'", "to='fred@example.org/x'", "service-unavailable")
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct := c.contacts["fred@example.org"]; ct == nil || ct.sub != "both" {
		t.Errorf("roster push not applied: %+v", ct)
	}
	if ct := c.contacts["x@example.org"]; ct != nil && ct.sub != "" {
		t.Errorf("a roster push from someone else was applied: %+v", ct)
	}
}

func TestCloseSaysGoodbye(t *testing.T) {
	srv := newFakeServer()
	c := fakeChannel(t, srv)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s", d)
	}
	if srv.wrote("<presence type='unavailable'/>") != 1 || srv.wrote("</stream:stream>") != 1 {
		t.Error("no goodbye")
	}
	c.Close() // twice is fine
	_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
	if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestSendRefusesBadRequests(t *testing.T) {
	srv := newFakeServer()
	c := fakeChannel(t, srv)
	for _, addr := range []string{"", "wilma", "@example.org", "wilma@", "a b@example.org", "x'@example.org"} {
		_, err := c.Send(context.Background(), request(addr, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); err == nil || tmp {
			t.Errorf("%q: %v, want a permanent error", addr, err)
		}
	}
	if _, err := c.Send(context.Background(), &delivery.Request{Address: wilmaJID}); err == nil {
		t.Error("no notification: no error")
	}
	if n := len(srv.sent()); n != 0 {
		t.Errorf("%d sent", n)
	}
}

func TestRegistered(t *testing.T) {
	f, ok := delivery.Lookup(notifyd.ChannelIM)
	if !ok {
		t.Fatal(`"im" is not registered`)
	}
	ch, err := f(&config.Config{}, nil)
	if ch != nil || err != nil {
		t.Fatalf("unconfigured: %v %v, want nil, nil", ch, err)
	}
	cfg := &config.Config{}
	cfg.Channels.XMPP = config.XMPP{JID: "notifyd@127.0.0.1", Password: "pw", Server: "127.0.0.1:1", TLS: config.TLSNone}
	ch, err = f(cfg, testLogger(t))
	if err != nil || ch == nil {
		t.Fatalf("configured: %v %v", ch, err)
	}
	if _, ok := ch.(delivery.AddressWatcher); !ok {
		t.Error("not an AddressWatcher")
	}
	ch.(*Channel).Close()
	cfg.Channels.XMPP.JID = "not a jid"
	if _, err := f(cfg, nil); err == nil {
		t.Error("a bad JID is accepted")
	}
}

func TestServerDefaults(t *testing.T) {
	for tls, want := range map[string]string{config.TLSStartTLS: "", config.TLSNone: "", config.TLSImplicit: "example.org:5223"} {
		c, err := newChannel(config.XMPP{JID: "notifyd@example.org/bot", Password: "pw", TLS: tls}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.server != want || c.resource != "bot" || c.bare != "notifyd@example.org" {
			t.Errorf("%s: server %q resource %q bare %q", tls, c.server, c.resource, c.bare)
		}
	}
}
