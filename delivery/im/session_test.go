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

// A server that stops answering is pinged after keepalive of silence,
// given up ackTimeout later, its connection closed (so that the reader
// waiting on it ends), and another connection made.
func TestKeepaliveGivesUpOnSilentServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const keepalive, ackTimeout = 30 * time.Second, 10 * time.Second
		tick := keepalive / 4
		srv := newFakeServer()
		c := fakeChannel(t, srv, func(c *Channel) { c.keepalive, c.ackTimeout = keepalive, ackTimeout })
		start := time.Now()
		srv.mu.Lock()
		srv.silent = true
		srv.mu.Unlock()

		// Nothing before keepalive of silence (ticks come every tick).
		time.Sleep(keepalive)
		synctest.Wait()
		if n := srv.wrote("<ping xmlns='urn:xmpp:ping'/>", "id='keepalive-"); n != 0 {
			t.Fatalf("%d pings within %s of the last stanza", n, keepalive)
		}
		// A ping at the next tick.
		time.Sleep(keepalive/tick*tick + tick - keepalive)
		srv.waitWrote(t, "<ping xmlns='urn:xmpp:ping'/>", "id='keepalive-", "to='example.org'")
		if !c.connected() || srv.isClosed(0) {
			t.Fatal("the session ended before the ping's answer was due")
		}
		// Given up at the first tick after keepalive+ackTimeout.
		giveUp := (keepalive+ackTimeout)/tick*tick + tick
		time.Sleep(giveUp - time.Since(start) - time.Nanosecond)
		synctest.Wait()
		if !c.connected() || len(srv.dialled()) != 1 {
			t.Fatal("the session ended before keepalive+ackTimeout")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !srv.isClosed(0) {
			t.Error("the silent connection was left open")
		}
		time.Sleep(c.backoffMax)
		synctest.Wait()
		if n := len(srv.dialled()); n != 2 || !c.connected() {
			t.Fatalf("%d connections, connected: %v; want a new connection", n, c.connected())
		}
	})
}

// A server that answers keeps the session: one ping per keepalive of
// silence, no reconnection.
func TestKeepaliveKeepsAnsweringServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		c := fakeChannel(t, srv, func(c *Channel) { c.keepalive, c.ackTimeout = 30*time.Second, 10*time.Second })
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		pings := srv.wrote("id='keepalive-")
		if n := len(srv.dialled()); n != 1 || !c.connected() {
			t.Fatalf("%d connections, connected %v; want the first one still up", n, c.connected())
		}
		// One ping at most per 30 s of silence (a tick is 7.5 s: every
		// 37.5 s), and at least one per 45 s.
		if pings < 10*60/45 || pings > 10*60/30 {
			t.Errorf("%d pings in 10 minutes", pings)
		}
	})
}

// Failed attempts are spaced by a jittered wait that doubles up to the
// maximum; a session that lasted starts the backoff again from the
// shortest wait, a short one does not.
func TestReconnectBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lo, hi = time.Second, 8 * time.Second
		srv := newFakeServer()
		srv.dialErr = errors.New("connection refused")
		c := fakeChannel(t, srv, func(c *Channel) { c.backoffMin, c.backoffMax = lo, hi })
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		checkBackoff(t, srv.dialled(), lo, hi, lo)

		// A stable session: the next wait is the shortest again.
		srv.mu.Lock()
		srv.dialErr = nil
		srv.mu.Unlock()
		time.Sleep(hi)
		synctest.Wait()
		if !c.connected() {
			t.Fatal("not connected")
		}
		time.Sleep(stableAfter)
		srv.mu.Lock()
		srv.dialErr = errors.New("connection refused")
		srv.mu.Unlock()
		srv.drop()
		before := len(srv.dialled())
		dropped := time.Now()
		time.Sleep(time.Minute)
		synctest.Wait()
		dials := srv.dialled()[before:]
		if len(dials) == 0 || dials[0].Sub(dropped) > lo {
			t.Fatalf("after a stable session the first attempt came %v after the drop, want within %s", dials, lo)
		}
		checkBackoff(t, dials, lo, hi, 2*lo)

		// A short session: the backoff goes on growing.
		srv.mu.Lock()
		srv.dialErr = nil
		srv.mu.Unlock()
		time.Sleep(hi)
		synctest.Wait()
		srv.mu.Lock()
		srv.dialErr = errors.New("connection refused")
		srv.mu.Unlock()
		srv.drop()
		dropped = time.Now()
		before = len(srv.dialled())
		time.Sleep(time.Minute)
		synctest.Wait()
		if dials := srv.dialled()[before:]; len(dials) == 0 || dials[0].Sub(dropped) < hi/2 {
			t.Errorf("after a short session the first attempt came %v after the drop, want at least %s", dials, hi/2)
		}
	})
}

// checkBackoff checks that the gaps between dials are each between
// half and all of a wait that starts at first and doubles up to hi.
func checkBackoff(t *testing.T, dials []time.Time, lo, hi, first time.Duration) {
	t.Helper()
	if len(dials) < 6 {
		t.Fatalf("%d attempts", len(dials))
	}
	wait := first
	for i := 1; i < len(dials); i++ {
		gap := dials[i].Sub(dials[i-1])
		if gap < wait/2 || gap > wait {
			t.Errorf("attempt %d came %s after the previous one, want between %s and %s", i, gap, wait/2, wait)
		}
		wait = min(wait*2, hi)
	}
}

// A message whose confirmation is pending when the connection drops
// fails at once with a temporary error.
func TestConnectionLostBeforeConfirmation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.silent = true
		c := fakeChannel(t, srv, func(c *Channel) { c.ackTimeout = time.Minute })
		go func() {
			srv.waitFor("id='ack-") // the message, then the ping that confirms it
			srv.drop()
		}()
		start := time.Now()
		_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "connection lost before the server confirmed") {
			t.Fatalf("Send: %v, want a temporary error: connection lost", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("failed after %s, want at once", d)
		}
	})
}

// A forged answer from a contact, with the ID of the roster request, is
// not the server's roster: it changes nothing.
func TestForgedRosterIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.mutual("fred@example.org", true)
		c := fakeChannel(t, srv)
		c.refreshWith(t, "fred@example.org")
		srv.mu.Lock()
		var id string
		for _, w := range srv.written {
			if st, ok := parseStanza(w); ok && st.Query != nil && st.Type == "get" {
				id = st.ID
			}
		}
		// An empty roster, from a contact, then from the server again.
		srv.conn.push(xmppIQ(id, "result", "mallory@example.org/x", `<query xmlns="jabber:iq:roster"/>`))
		srv.conn.push(xmppIQ(id, "result", "", `<query xmlns="jabber:iq:roster"/>`))
		srv.mu.Unlock()
		c.refreshWith(t, "fred@example.org")
		if ct, _ := c.contactOf("fred@example.org"); ct.sub != subBoth {
			t.Errorf("fred's subscription is %s after forged rosters, want both", ct.sub)
		}
		if n := srv.wrote("to='fred@example.org'", "type='subscribe'"); n != 0 {
			t.Errorf("fred, mutual, was asked %d times after forged rosters", n)
		}
	})
}

// A forged answer from a contact to the ping that confirms a message
// does not confirm it.
func TestForgedConfirmationIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.silent = true
		c := fakeChannel(t, srv)
		go func() {
			srv.waitFor("id='ack-")
			srv.mu.Lock()
			defer srv.mu.Unlock()
			for _, w := range srv.written {
				if st, ok := parseStanza(w); ok && st.Ping != nil {
					srv.conn.push(xmppIQ(st.ID, "result", "mallory@example.org/x", ""))
				}
			}
		}()
		_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "no confirmation") {
			t.Fatalf("Send: %v, want no confirmation", err)
		}
	})
}
