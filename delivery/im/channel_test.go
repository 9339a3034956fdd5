package im

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

// Every test here runs in a testing/synctest bubble: time.Sleep advances
// the bubble's fake clock once every goroutine in it is blocked, so a
// sleep is an exact step of fake time, never a wait on a real machine.

func TestConnectionDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		srv.dialErr = errors.New("connection refused")
		c := fakeChannel(t, srv)
		ctx := context.Background()
		start := time.Now()
		_, err := c.Send(ctx, request(wilmaJID, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !errors.Is(err, errConnectionDown) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("Send while the server is unreachable: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("waited %s for a server known to be down", d)
		}

		srv.mu.Lock()
		srv.dialErr = nil
		srv.mu.Unlock()
		time.Sleep(c.backoffMax) // the longest wait before the next attempt
		synctest.Wait()
		if !c.connected() {
			t.Fatal("the channel did not reconnect")
		}
		if res, err := c.Send(ctx, request(wilmaJID, notifyd.PresenceStore)); err != nil || res.Skipped != "" {
			t.Fatalf("after reconnecting: %+v %v", res, err)
		}

		srv.mu.Lock()
		srv.dialErr = errors.New("connection refused")
		srv.mu.Unlock()
		srv.drop()
		synctest.Wait()
		if c.connected() {
			t.Fatal("the channel did not notice the connection drop")
		}
		start = time.Now()
		_, err = c.Send(ctx, request(wilmaJID, notifyd.PresenceOnlineOnly))
		if tmp, _ := delivery.IsTemporary(err); !tmp {
			t.Fatalf("Send after the connection dropped: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("waited %s for a connection while the server is known to be down", d)
		}
	})
}

func TestRosterPushAndQueries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
		if ct, _ := c.contactOf("fred@example.org"); ct.sub != subBoth {
			t.Errorf("roster push not applied: %+v", ct)
		}
		if ct, ok := c.contactOf("x@example.org"); ok && ct.sub != subNone {
			t.Errorf("a roster push from someone else was applied: %+v", ct)
		}
	})
}

func TestCloseSaysGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeServer()
		c := fakeChannel(t, srv)
		start := time.Now()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Close took %s; the server answered the goodbye at once", d)
		}
		if srv.wrote("<presence type='unavailable'/>") != 1 || srv.wrote("</stream:stream>") != 1 {
			t.Error("no goodbye")
		}
		c.Close() // twice is fine
		_, err := c.Send(context.Background(), request(wilmaJID, notifyd.PresenceStore))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Send after Close: %v", err)
		}
	})
}

func TestFromConfig(t *testing.T) {
	f := FromConfig
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
