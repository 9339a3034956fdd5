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

// imWorld is Cyrus, an SMTP sink, Prosody (accounts notifyd and wilma)
// and a notifyd configured for all three, sending instant messages as
// notifyd@localhost over STARTTLS.
type imWorld struct {
	*world
	prosody  *peertest.Prosody
	barriers int // imCaughtUp calls
	invites  int // imNewInvite calls
}

func imNewWorld(t *testing.T) *imWorld {
	t.Helper()
	pr := peertest.StartProsody(t, "notifyd", "wilma")
	cy := peertest.StartCyrus(t, "fred", "wilma")
	sink := peertest.StartSMTP(t)
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	// Inherited by notifyd: it verifies Prosody's self-signed certificate
	// (channels.xmpp has no ca_file).
	t.Setenv("SSL_CERT_FILE", pr.CertFile())
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  cyrus:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    principal_prefix: /dav/principals/
    after_delivery: delete
    timeout: 5s
channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
  xmpp:
    jid: %s
    password: %s
    server: %s
    tls: starttls
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, cy.BaseURL, pingToken, sink.Host, sink.Port, ca, pr.JID("notifyd"), pr.Password("notifyd"), pr.Addr))
	nd.start()
	return &imWorld{world: &world{cyrus: cy, smtp: sink, nd: nd}, prosody: pr}
}

// imSubscribe makes (or, given its ID, replaces) wilma's subscription with
// the given methods and returns its ID.
func (w *imWorld) imSubscribe(t *testing.T, id string, methods ...map[string]any) string {
	t.Helper()
	method, path, want := http.MethodPost, "/v1/subscriptions", http.StatusCreated
	if id != "" {
		method, path, want = http.MethodPut, "/v1/subscriptions/"+id, http.StatusOK
	}
	code, body := w.nd.api(t, method, path, map[string]any{
		"system": "cyrus", "principal": w.cyrus.PrincipalHref("wilma"), "time_zone": "Europe/Paris", "locale": "en",
		"methods": methods,
	})
	if code != want {
		t.Fatalf("%s %s: %d %v", method, path, code, body)
	}
	return body["id"].(string)
}

// imNewInvite makes Cyrus give wilma a new invite notification, to a
// new calendar of fred's, and pings notifyd about it. Cyrus keeps one
// notification per shared calendar: sharing one calendar again rewrites
// it, and within the same second as an earlier share with the same access
// it is the very notification notifyd delivered then.
func (w *imWorld) imNewInvite(t *testing.T, readWrite bool) {
	t.Helper()
	w.invites++
	cal := fmt.Sprintf("im%d", w.invites)
	mkcalendar(t, w.cyrus, "fred", cal)
	access := "<D:read/>"
	if readWrite {
		access = "<D:read-write/>"
	}
	body := `<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:"><D:sharee>` +
		`<D:href>mailto:wilma@localhost</D:href><D:share-access>` + access + `</D:share-access></D:sharee></D:share-resource>`
	if code, _, resp := w.cyrus.Request(t, "fred", http.MethodPost, w.cyrus.CalendarHome("fred")+cal+"/", "application/davsharing+xml", body); code/100 != 2 {
		t.Fatalf("fred sharing %s with wilma: %d %s", cal, code, resp)
	}
	w.ping(t, "cyrus", "wilma")
}

// imCaughtUp returns once notifyd has read everything its XMPP server
// sent it before now, such as wilma's unavailable presence: probe sends
// notifyd's session (its full JID, notifydJID) a bounce that nothing
// notifyd sent explains, which notifyd logs once it reads it, and
// notifyd reads what the server sends it in order.
func (w *imWorld) imCaughtUp(t *testing.T, probe *peertest.XMPPUser, notifydJID string) {
	t.Helper()
	w.barriers++
	tag := fmt.Sprintf("e2e-barrier-%d", w.barriers)
	since := w.nd.logMark()
	probe.Send(t, "<message type='error' id='"+tag+"' to='"+notifydJID+"'><error type='cancel'>"+
		"<undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"+
		"<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>"+tag+"</text></error></message>")
	w.nd.waitLog(t, time.Minute, since, 1, "im: a message bounced", tag+")")
}

// TestIMDelivery runs the IM scenarios through the notifyd binary,
// in order, on one world.
func TestIMDelivery(t *testing.T) {
	w := imNewWorld(t)
	wilmaJID := w.prosody.JID("wilma")
	wilma := w.prosody.Login(t, "wilma")
	w.prosody.Register(t, "probe")
	probe := w.prosody.Login(t, "probe")
	im := map[string]any{"channel": "im", "address": wilmaJID, "presence": "online_only"}
	subID := w.imSubscribe(t, "", im)
	var notifydJID string // notifyd's session, the sender of wilma's first pop-up

	t.Run("online: the pop-up arrives", func(t *testing.T) {
		start := time.Now()
		w.imNewInvite(t, true)
		ds := w.waitDeliveries(t, "cyrus", "wilma", 1, time.Minute)
		if ds[0]["status"] != "sent" || ds[0]["channel"] != "im" || ds[0]["address"] != wilmaJID {
			t.Fatalf("delivery %v\nnotifyd log:\n%s", ds[0], w.nd.log)
		}
		m := wilma.WaitMessages(t, 1, time.Minute)[0]
		notifydJID = m.From
		t.Logf("pop-up %s after the share:\n%s", time.Since(start).Round(time.Millisecond), m.Body)
		if !strings.Contains(m.Body, "fred") || !strings.Contains(m.Body, "shared") || m.Delayed || m.Type != "chat" ||
			!strings.HasPrefix(m.From, w.prosody.JID("notifyd")+"/") {
			t.Errorf("message %+v", m)
		}
		if ds[0]["provider_id"] != "notifyd-"+ds[0]["id"].(string) {
			t.Errorf("provider_id %v, want notifyd-<delivery id>", ds[0]["provider_id"])
		}
		wilma.WaitMutual(t, w.prosody.JID("notifyd"), time.Minute)
		if !strings.Contains(w.nd.log.String(), "im: connected to the XMPP server") {
			t.Errorf("no connection logged:\n%s", w.nd.log)
		}
	})

	t.Run("offline, online_only: skipped, nothing kept", func(t *testing.T) {
		wilma.Offline(t)
		w.imCaughtUp(t, probe, notifydJID) // notifyd has read her unavailable presence
		w.imNewInvite(t, false)
		ds := w.waitDeliveries(t, "cyrus", "wilma", 2, time.Minute)
		d := imLatest(ds)
		if d["status"] != "skipped" || d["last_error"] != "recipient offline (online_only)" {
			t.Fatalf("delivery %v, want skipped: recipient offline (online_only)\nnotifyd log:\n%s", d, w.nd.log)
		}
		wilma.Online(t)
		wilma.Sync(t, time.Minute) // a message kept for her has arrived now
		if msgs := wilma.Messages(); len(msgs) != 1 {
			t.Fatalf("wilma has %d messages after logging in again, want still 1: %+v", len(msgs), msgs)
		}
	})

	t.Run("offline, fallback: the email goes instead", func(t *testing.T) {
		w.imSubscribe(t, subID,
			map[string]any{"channel": "im", "address": wilmaJID, "presence": "fallback"},
			map[string]any{"channel": "email", "address": "wilma@example.org"})
		wilma.Offline(t)
		w.imCaughtUp(t, probe, notifydJID)
		w.imNewInvite(t, true)
		ds := w.waitDeliveries(t, "cyrus", "wilma", 4, time.Minute)
		var imD, emailD map[string]any
		for _, d := range ds[2:] {
			if d["channel"] == "im" {
				imD = d
			} else {
				emailD = d
			}
		}
		if imD == nil || emailD == nil {
			t.Fatalf("deliveries %v", ds)
		}
		reason, _ := imD["last_error"].(string)
		if imD["status"] != "skipped" || !strings.Contains(reason, wilmaJID+" is offline") ||
			!strings.Contains(reason, "delivered through email wilma@example.org instead") {
			t.Errorf("im delivery %v, want skipped with the reason", imD)
		}
		if emailD["status"] != "sent" || emailD["address"] != "wilma@example.org" {
			t.Errorf("email delivery %v", emailD)
		}
		mails := w.mailTo(t, "wilma@example.org")
		if len(mails) != 1 {
			t.Fatalf("wilma got %d emails, want 1", len(mails))
		}
		if text := strings.ToLower(mails[0].Header.Get("Subject") + mails[0].Text); !strings.Contains(text, "fred") {
			t.Errorf("the email does not name fred:\n%s", text)
		}
		if n := len(wilma.Messages()); n != 1 {
			t.Errorf("wilma has %d instant messages, want still 1", n)
		}
	})

	t.Run("restart: the addresses of the subscriptions are watched from the start", func(t *testing.T) {
		w.prosody.Register(t, "betty")
		betty := w.prosody.Login(t, "betty")
		code, body := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
			"system": "cyrus", "principal": w.cyrus.PrincipalHref("betty"),
			"methods": []map[string]any{{"channel": "im", "address": w.prosody.JID("betty")}},
		})
		if code != http.StatusCreated {
			t.Fatalf("subscribe betty: %d %v", code, body)
		}
		err, took := w.nd.stop()
		if err != nil || took > 10*time.Second {
			t.Fatalf("graceful stop: %v after %s\n%s", err, took, w.nd.log)
		}
		t.Logf("notifyd stopped in %s", took.Round(time.Millisecond))
		w.nd.start()
		// No message for betty: notifyd asks for her presence because her
		// address is in a subscription.
		betty.WaitMutual(t, w.prosody.JID("notifyd"), time.Minute)
	})
}

// imLatest returns the most recently created delivery.
func imLatest(ds []map[string]any) map[string]any {
	latest := ds[0]
	for _, d := range ds[1:] {
		if d["created_at"].(string) > latest["created_at"].(string) {
			latest = d
		}
	}
	return latest
}
