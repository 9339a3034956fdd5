package im

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/internal/peertest"
)

// prosodyChannel starts a channel logged in to p as notifyd (with
// tlsMode, verifying p's certificate), with short waits, and waits until
// it is connected.
func prosodyChannel(t *testing.T, p *peertest.Prosody, tlsMode string) *Channel {
	t.Helper()
	cfg := config.XMPP{JID: p.JID("notifyd"), Password: config.Secret(p.Password("notifyd")), Server: p.Addr, TLS: tlsMode}
	if tlsMode == config.TLSImplicit {
		cfg.Server = p.TLSAddr
	}
	c, err := newChannel(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	WithRootCAs(p.CertPool())(c)
	c.dial = goxmppDialer(cfg, c.bare, c.resource, c.server, c.roots)
	c.approvalWait, c.backoffMin, c.backoffMax = 2*time.Second, 50*time.Millisecond, 500*time.Millisecond
	c.start()
	t.Cleanup(func() { c.Close() })
	waitUntil(t, 10*time.Second, "the channel connects", c.connected)
	return c
}

func waitUntil(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func reminderRequest(addr, presence, id string) *delivery.Request {
	return &delivery.Request{
		DeliveryID: id,
		Notification: &notifyd.Notification{
			Type:     notifyd.TypeReminder,
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Work/", DisplayName: "Work"},
			Event: &notifyd.Event{Href: "/dav/calendars/user/wilma/Work/standup.ics", UID: "standup-1", Summary: "Stand-up",
				Location: "Room 4", Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)},
			Reminder: &notifyd.Reminder{Calendar: "/dav/calendars/user/wilma/Work/", Object: "/dav/calendars/user/wilma/Work/standup.ics",
				UID: "standup-1", RecurrenceID: "20261201T150000Z", AlarmID: "a1", Component: "event", Action: "DISPLAY",
				Text: "Bring the figures", Trigger: time.Date(2026, 12, 1, 14, 45, 0, 0, time.UTC)},
		},
		System: "cal", Principal: "/dav/principals/user/wilma/", Address: addr, Locale: "en", TimeZone: paris,
		Method: notifyd.DeliveryMethod{ID: "m1", Channel: notifyd.ChannelIM, Address: addr, Enabled: true, Presence: presence},
	}
}

// TestProsody runs the presence scenarios against a real XMPP
// server, in order.
func TestProsody(t *testing.T) {
	p := peertest.StartProsody(t, "notifyd", "wilma", "carol")
	wilmaJID := p.JID("wilma")
	wilma := p.Login(t, "wilma")
	c := prosodyChannel(t, p, config.TLSStartTLS)
	c.WatchAddresses(func(context.Context) ([]string, error) { return []string{wilmaJID, "not a jid"}, nil })
	wilma.WaitMutual(t, p.JID("notifyd"), 10*time.Second)
	waitUntil(t, 5*time.Second, "the channel sees wilma online", func() bool { return c.reachOf(wilmaJID) == "online" })
	ctx := context.Background()

	t.Run("online: the pop-up arrives with the event", func(t *testing.T) {
		start := time.Now()
		res, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceOnlineOnly, "d-online"))
		if err != nil || res.Skipped != "" {
			t.Fatalf("Send: %+v %v", res, err)
		}
		if res.ProviderID != "notifyd-d-online" {
			t.Errorf("ProviderID %q", res.ProviderID)
		}
		m := wilma.WaitMessages(t, 1, 5*time.Second)[0]
		t.Logf("pop-up after %s:\n%s", time.Since(start).Round(time.Millisecond), m.Body)
		if m.Type != "chat" || m.Delayed || !strings.HasPrefix(m.From, p.JID("notifyd")+"/") {
			t.Errorf("message %+v", m)
		}
		if !strings.Contains(m.Body, "Reminder: “Stand-up”") || !strings.Contains(m.Body, "16:00–16:30 CET") || !strings.Contains(m.Body, "Note: Bring the figures") {
			t.Errorf("body:\n%s", m.Body)
		}
		cal, ok := m.Element(CalendarNS)
		if !ok || cal.Local != "calendar" || cal.Attr["type"] != "text/calendar" {
			t.Fatalf("no calendar element: %+v", m.Elements)
		}
		// Prosody passes the CRs on unescaped, and XML parsing turns CRLF
		// into LF: compare lines.
		ics := strings.ReplaceAll(cal.Text, "\r\n", "\n")
		for _, want := range []string{"BEGIN:VCALENDAR\n", "METHOD:PUBLISH\n", "BEGIN:VEVENT\n", "UID:standup-1\n", "RECURRENCE-ID:20261201T150000Z\n",
			"DTSTART:20261201T150000Z\n", "SUMMARY:Stand-up\n", "END:VCALENDAR\n"} {
			if !strings.Contains(ics, want) {
				t.Errorf("calendar lacks %q:\n%q", want, cal.Text)
			}
		}
	})

	wilma.Offline(t)
	waitUntil(t, 5*time.Second, "the channel sees wilma offline", func() bool { return c.reachOf(wilmaJID) == "offline" })

	t.Run("offline, online_only: skipped, nothing stored", func(t *testing.T) {
		res, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceOnlineOnly, "d-skip"))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("Send: %+v %v, want skipped %q", res, err, ReasonOffline)
		}
		res, err = c.Send(ctx, reminderRequest(wilmaJID, "", "d-skip-default"))
		if err != nil || res.Skipped != ReasonOffline {
			t.Fatalf("Send with no policy: %+v %v, want skipped (online_only is the default)", res, err)
		}
		// Nothing was kept for her: logging in brings no message.
		wilma.Online(t)
		waitUntil(t, 5*time.Second, "the channel sees wilma online", func() bool { return c.reachOf(wilmaJID) == "online" })
		time.Sleep(500 * time.Millisecond)
		if msgs := wilma.Messages(); len(msgs) != 1 {
			t.Fatalf("after logging in wilma has %d messages, want only the first pop-up: %+v", len(msgs), msgs)
		}
		wilma.Offline(t)
		waitUntil(t, 5*time.Second, "the channel sees wilma offline", func() bool { return c.reachOf(wilmaJID) == "offline" })
	})

	t.Run("offline, fallback: ErrFallback", func(t *testing.T) {
		_, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceFallback, "d-fallback"))
		if !errors.Is(err, delivery.ErrFallback) {
			t.Fatalf("Send: %v, want ErrFallback", err)
		}
		if tmp, _ := delivery.IsTemporary(err); tmp {
			t.Errorf("fallback error is temporary: %v", err)
		}
	})

	t.Run("offline, store: delivered at the next login", func(t *testing.T) {
		res, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceStore, "d-store"))
		if err != nil || res.Skipped != "" {
			t.Fatalf("Send: %+v %v", res, err)
		}
		wilma.Online(t)
		wilma.WaitMessages(t, 2, 5*time.Second)
		time.Sleep(500 * time.Millisecond) // anything else stored would come now
		msgs := wilma.Messages()
		if len(msgs) != 2 {
			t.Fatalf("after logging in again wilma has %d messages, want 2 (the first pop-up and the stored one): %+v", len(msgs), msgs)
		}
		if !msgs[1].Delayed || !strings.Contains(msgs[1].Body, "Stand-up") {
			t.Errorf("stored message %+v", msgs[1])
		}
		waitUntil(t, 5*time.Second, "the channel sees wilma online again", func() bool { return c.reachOf(wilmaJID) == "online" })
	})

	t.Run("recipient who never approved: skipped with the reason", func(t *testing.T) {
		start := time.Now()
		res, err := c.Send(ctx, reminderRequest(p.JID("carol"), notifyd.PresenceOnlineOnly, "d-carol"))
		if err != nil || !strings.HasPrefix(res.Skipped, ReasonOffline+": ") || !strings.Contains(res.Skipped, "not approved") {
			t.Fatalf("Send: %+v %v", res, err)
		}
		if d := time.Since(start); d < c.approvalWait-100*time.Millisecond {
			t.Errorf("gave up after %s, before the approval wait", d)
		}
		// carol logs in: the pending request reaches her, her client
		// approves, and she gets the next pop-up.
		carol := p.Login(t, "carol")
		carol.WaitMutual(t, p.JID("notifyd"), 10*time.Second)
		waitUntil(t, 5*time.Second, "the channel sees carol online", func() bool { return c.reachOf(p.JID("carol")) == "online" })
		res, err = c.Send(ctx, reminderRequest(p.JID("carol"), notifyd.PresenceOnlineOnly, "d-carol-2"))
		if err != nil || res.Skipped != "" {
			t.Fatalf("Send after approval: %+v %v", res, err)
		}
		if msgs := carol.WaitMessages(t, 1, 5*time.Second); msgs[0].Delayed {
			t.Errorf("carol got a stored message: %+v", msgs[0])
		}
	})

	t.Run("unknown account: the server's refusal is a permanent failure", func(t *testing.T) {
		_, err := c.Send(ctx, reminderRequest(p.JID("nobody"), notifyd.PresenceStore, "d-nobody"))
		if err == nil || !strings.Contains(err.Error(), "service-unavailable") {
			t.Fatalf("Send: %v, want the server's service-unavailable", err)
		}
		if tmp, _ := delivery.IsTemporary(err); tmp {
			t.Errorf("temporary: %v", err)
		}
	})

	t.Run("server down: temporary error, then back", func(t *testing.T) {
		p.Stop(t)
		waitUntil(t, 5*time.Second, "the channel notices", func() bool { return !c.connected() })
		_, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceOnlineOnly, "d-down"))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !errors.Is(err, errConnectionDown) {
			t.Fatalf("Send while down: %v, want a temporary error", err)
		}
		p.Start(t)
		waitUntil(t, 10*time.Second, "the channel reconnects", c.connected)
		// wilma's client lost its connection too; she logs in again.
		wilma.Offline(t)
		wilma.Online(t)
		waitUntil(t, 5*time.Second, "the channel sees wilma online again", func() bool { return c.reachOf(wilmaJID) == "online" })
		before := len(wilma.Messages())
		res, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceOnlineOnly, "d-back"))
		if err != nil || res.Skipped != "" {
			t.Fatalf("Send after the restart: %+v %v", res, err)
		}
		wilma.WaitMessages(t, before+1, 5*time.Second)
	})

	t.Run("close ends the session", func(t *testing.T) {
		start := time.Now()
		c.Close()
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Close took %s", d)
		}
		_, err := c.Send(ctx, reminderRequest(wilmaJID, notifyd.PresenceStore, "d-closed"))
		if tmp, _ := delivery.IsTemporary(err); !tmp {
			t.Errorf("Send after Close: %v, want a temporary error", err)
		}
	})
}

// TestProsodyTLSModes logs in without TLS (channels.xmpp.tls: none) and
// with implicit TLS (tls), and sends to a recipient the channel was not
// told to watch: it asks for her presence on the spot.
func TestProsodyTLSModes(t *testing.T) {
	p := peertest.StartProsody(t, "notifyd", "wilma")
	wilma := p.Login(t, "wilma")
	for i, mode := range []string{config.TLSNone, config.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			c := prosodyChannel(t, p, mode)
			res, err := c.Send(context.Background(), reminderRequest(p.JID("wilma"), notifyd.PresenceOnlineOnly, "d-"+mode))
			if err != nil || res.Skipped != "" {
				t.Fatalf("Send: %+v %v", res, err)
			}
			if m := wilma.WaitMessages(t, i+1, 5*time.Second)[i]; !strings.Contains(m.Body, "Stand-up") {
				t.Errorf("message %+v", m)
			}
			c.Close()
		})
	}
	t.Run("certificate not trusted", func(t *testing.T) {
		cfg := config.XMPP{JID: p.JID("notifyd"), Password: config.Secret(p.Password("notifyd")), Server: p.Addr, TLS: config.TLSStartTLS}
		c, err := NewChannel(cfg, testLogger(t)) // the system's CAs
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Send(context.Background(), reminderRequest(p.JID("wilma"), notifyd.PresenceStore, "d-untrusted"))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Send: %v, want a temporary error about the certificate", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := config.XMPP{JID: p.JID("notifyd"), Password: "nope", Server: p.Addr, TLS: config.TLSNone}
		c, err := NewChannel(cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Send(context.Background(), reminderRequest(p.JID("wilma"), notifyd.PresenceStore, "d-badpw"))
		if tmp, _ := delivery.IsTemporary(err); !tmp || !strings.Contains(err.Error(), "auth") {
			t.Fatalf("Send: %v, want a temporary error about the authentication", err)
		}
	})
}
