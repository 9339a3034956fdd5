package im

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// Every test here runs in a testing/synctest bubble: time.Sleep advances
// the bubble's fake clock once every goroutine in it is blocked, so a
// sleep is an exact step of fake time, never a wait on a real machine.

const wilmaJID = "wilma@example.org"

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
	synctest.Test(t, func(t *testing.T) {
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
		synctest.Wait()
		if r := c.reachOf(wilmaJID); r != "offline" {
			t.Fatalf("wilma went offline; the channel says %s", r)
		}
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
		synctest.Wait()
		if r := c.reachOf(wilmaJID); r != "online" {
			t.Fatalf("wilma came back; the channel says %s", r)
		}
		res, err = c.Send(ctx, request("Wilma@Example.org/laptop", notifyd.PresenceFallback))
		if err != nil || res.Skipped != "" {
			t.Fatalf("online again, fallback, full JID in other case: %+v %v", res, err)
		}
		if m := srv.sent()[2]; m.To != "Wilma@Example.org/laptop" {
			t.Errorf("sent to %q, want the address as given", m.To)
		}
	})
}

// At login the server answers the probes before the roster comes: an
// offline contact is known offline at once, without waiting.
func TestOfflineAtLoginDecidedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.mutual(wilmaJID, false)
		c := fakeChannel(t, srv, func(c *Channel) { c.settle = 5 * time.Second })
		start := time.Now()
		res, err := c.Send(context.Background(), request(wilmaJID, ""))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("%+v %v", res, err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("waited %s", d)
		}
	})
}

// A contact whose presence does not come (no answer to the probe) is
// waited for, then offline.
func TestUnheardContactIsOfflineAfterSettling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		c := fakeChannel(t, srv)
		// A roster push makes wilma visible without any presence following.
		srv.mu.Lock()
		srv.roster[wilmaJID] = &fakeItem{sub: "to"}
		srv.rosterPush(srv.conn, wilmaJID)
		srv.mu.Unlock()
		synctest.Wait()
		if ct, ok := c.contactOf(wilmaJID); !ok || !ct.sub.visible() {
			t.Fatalf("wilma not visible after the push: %+v", ct)
		}
		start := time.Now()
		res, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("%+v %v", res, err)
		}
		if d := time.Since(start); d != c.settle {
			t.Errorf("decided after %s, want after the settling time (%s)", d, c.settle)
		}
	})
}

func TestSendSubscribesOnDemand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.approve["fred@example.org"], srv.online["fred@example.org"] = true, true
		srv.approve["barney@example.org"] = true // offline
		srv.decline["betty@example.org"] = true
		c := fakeChannel(t, srv)
		ctx := context.Background()

		// An approving client, online: sent.
		res, err := c.Send(ctx, request("fred@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != "" {
			t.Fatalf("fred: %+v %v", res, err)
		}
		if srv.wrote("to='fred@example.org'", "type='subscribe'") != 1 || srv.wrote("to='fred@example.org'", "type='subscribed'") != 1 {
			t.Error("fred: no subscription request and pre-approval")
		}

		// An approving client, offline: skipped after settling.
		start := time.Now()
		res, err = c.Send(ctx, request("barney@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("barney: %+v %v", res, err)
		}
		if d := time.Since(start); d != c.settle {
			t.Errorf("barney: decided after %s, want after settling (%s)", d, c.settle)
		}

		// Nobody answers: skipped after the approval wait, with the reason.
		start = time.Now()
		res, err = c.Send(ctx, request("pebbles@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || res.Skipped != ReasonOffline+": the presence subscription request to pebbles@example.org is not approved" {
			t.Fatalf("pebbles: %+v %v", res, err)
		}
		if d := time.Since(start); d != c.approvalWait {
			t.Errorf("pebbles: gave up after %s, want after the approval wait (%s)", d, c.approvalWait)
		}
		// A second message does not wait again, nor ask again.
		start = time.Now()
		if _, err := c.Send(ctx, request("pebbles@example.org", notifyd.PresenceFallback)); !errors.Is(err, delivery.ErrFallback) {
			t.Fatalf("pebbles, fallback: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("pebbles: waited %s again", d)
		}
		if n := srv.wrote("to='pebbles@example.org'", "type='subscribe'"); n != 1 {
			t.Errorf("pebbles asked %d times", n)
		}
		// store sends anyway.
		if res, err := c.Send(ctx, request("pebbles@example.org", notifyd.PresenceStore)); err != nil || res.Skipped != "" {
			t.Fatalf("pebbles, store: %+v %v", res, err)
		}

		// Refused: skipped, not asked again.
		res, err = c.Send(ctx, request("betty@example.org", notifyd.PresenceOnlineOnly))
		if err != nil || !strings.Contains(res.Skipped, "betty@example.org refused") {
			t.Fatalf("betty: %+v %v", res, err)
		}
		c.refreshWith(t, "betty@example.org")
		if n := srv.wrote("to='betty@example.org'", "type='subscribe'"); n != 1 {
			t.Errorf("betty asked %d times", n)
		}
	})
}

// A Send made while the first connection is being made waits for it.
func TestSendWaitsForTheFirstConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.gate = make(chan struct{})
		c := fakeChannel(t, srv)
		go func() {
			time.Sleep(c.connectWait / 2)
			srv.mu.Lock()
			close(srv.gate)
			srv.gate = nil
			srv.mu.Unlock()
		}()
		start := time.Now()
		res, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
		if err != nil || res.Skipped != "" {
			t.Fatalf("%+v %v", res, err)
		}
		if d := time.Since(start); d != c.connectWait/2 {
			t.Errorf("sent after %s, want as soon as connected (%s)", d, c.connectWait/2)
		}
	})
}

func TestNoConfirmationIsTemporary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.silent = true
		c := fakeChannel(t, srv)
		start := time.Now()
		_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "no confirmation") {
			t.Fatalf("%v", err)
		}
		if d := time.Since(start); d != c.ackTimeout {
			t.Errorf("gave up after %s, want after %s", d, c.ackTimeout)
		}
	})
}

func TestBounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		c := fakeChannel(t, srv, func(c *Channel) { c.limiter = delivery.NewLimiter(10, 1) })
		start := time.Now()
		for range 4 {
			if _, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore)); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < 299*time.Millisecond {
			t.Errorf("4 messages at 10/s took %s", d)
		}
		// Skipped messages do not count.
		for range 5 {
			c.Send(context.Background(), request("pebbles@example.org", notifyd.PresenceFallback))
		}
		if n := len(srv.sent()); n != 4 {
			t.Errorf("%d sent", n)
		}
	})
}

func TestSendRefusesBadRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}
