package im

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
	"github.com/notifyd/notifyd/internal/peertest"
)

// prefLink is a preference link as notifyd makes them: the public URL,
// /preferences/ and a 60-character base64url token.
const prefLink = "https://cal.example/preferences/AQAAAAAAAAAqZ2Fyc2UtdGVzdC1zdWItMDAwMDAwMDFhYmNkZWZnaGlq"

// With the preference link, a message's and a digest's body end with a
// line showing it, in the recipient's language, under the very text
// they have without it; the calendar object, which people do not read,
// does not carry it.
func TestRenderPreferencesLink(t *testing.T) {
	r := newTestRenderer(t)
	reminder := &notifyd.Notification{Type: notifyd.TypeReminder, Event: standup, Calendar: notifyd.Collection{DisplayName: "Work"}}
	for _, tc := range []struct{ locale, line string }{
		{"en", "Manage notifications: " + prefLink},
		{"fr", "Gérer les notifications : " + prefLink},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			in := input(reminder, tc.locale)
			plain, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			in.PreferencesURL = prefLink
			got, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != plain.Body+"\n"+tc.line {
				t.Errorf("body:\n%s\nwant:\n%s", got.Body, plain.Body+"\n"+tc.line)
			}
			if got.Calendar == "" || got.Calendar != plain.Calendar || strings.Contains(got.Calendar, "preferences") {
				t.Errorf("calendar:\n%s", got.Calendar)
			}

			d := DigestInput{Digest: message.Collapse(teamDigest().Items), Recipient: "wilma@example.org", Locale: tc.locale, TimeZone: paris, DeliveryID: "digest-1"}
			plainDigest, err := r.RenderDigest(d)
			if err != nil {
				t.Fatal(err)
			}
			d.PreferencesURL = prefLink
			digest, err := r.RenderDigest(d)
			if err != nil {
				t.Fatal(err)
			}
			if digest.Body != plainDigest.Body+"\n"+tc.line || digest.Calendar != "" {
				t.Errorf("digest:\n%s\nwant:\n%s", digest.Body, plainDigest.Body+"\n"+tc.line)
			}
		})
	}
}

// However long the notification or the digest, the link is shown whole
// on the last line, within the body's limit; a link a message should not
// show is left out.
func TestRenderPreferencesLinkLimits(t *testing.T) {
	r := newTestRenderer(t)
	check := func(name, body string) {
		t.Helper()
		if c := utf8.RuneCountInString(body); c > maxBodyRunes || !strings.HasSuffix(body, "\nManage notifications: "+prefLink) {
			t.Errorf("%s: body of %d characters (limit %d), ending %q", name, c, maxBodyRunes, body[max(len(body)-200, 0):])
		}
	}
	for name, n := range oversized() {
		in := input(n, "en")
		in.PreferencesURL = prefLink
		m, err := r.Render(in)
		if err != nil {
			t.Fatal(err)
		}
		check(name, m.Body)
		if !strings.Contains(m.Body, "\n(Shortened: the full notification is ") {
			t.Errorf("%s: no shortening note:\n%s", name, m.Body)
		}
	}

	var items []delivery.DigestItem
	for i := range 100 {
		n := message.Sample(notifyd.TypeEventDeleted)
		n.Update.UID = string(rune('A' + i))
		items = append(items, delivery.DigestItem{DeliveryID: "d", Notification: n})
	}
	m, err := r.RenderDigest(DigestInput{Digest: message.Collapse(items), Recipient: "wilma@example.org", Locale: "en", PreferencesURL: prefLink})
	if err != nil {
		t.Fatal(err)
	}
	check("digest of 100", m.Body)
	if !strings.Contains(m.Body, "more: open your calendar app to see them all.\nManage") || strings.Contains(m.Body, "…\n") {
		t.Errorf("digest of 100:\n%s", m.Body)
	}

	for _, bad := range []string{"javascript:alert(1)", "https://cal.example/preferences/a b", "https://cal.example/p\n<b>"} {
		in := input(message.Sample(notifyd.TypeReminder), "en")
		plain, err := r.Render(in)
		if err != nil {
			t.Fatal(err)
		}
		in.PreferencesURL = bad
		if m, err := r.Render(in); err != nil || m.Body != plain.Body {
			t.Errorf("%q: %v, body:\n%s", bad, err, m.Body)
		}
	}
}

// Against a real XMPP server (Prosody): the message and the digest arrive
// with the link on their last line, the calendar element without it.
func TestPreferencesLinkAgainstProsody(t *testing.T) {
	p := peertest.StartProsody(t, "notifyd", "wilma")
	wilmaJID := p.JID("wilma")
	wilma := p.Login(t, "wilma")
	c := prosodyChannel(t, p, config.TLSStartTLS)
	c.WatchAddresses(func(context.Context) ([]string, error) { return []string{wilmaJID}, nil })
	wilma.WaitMutual(t, p.JID("notifyd"), 10*time.Second)
	waitUntil(t, 5*time.Second, "the channel sees wilma online", func() bool { return c.reachOf(wilmaJID) == "online" })

	req := reminderRequest(wilmaJID, notifyd.PresenceOnlineOnly, "d-link")
	req.Locale, req.PreferencesURL = "fr", prefLink
	if res, err := c.Send(context.Background(), req); err != nil || res.Skipped != "" {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	m := wilma.WaitMessages(t, 1, 10*time.Second)[0]
	if !strings.HasPrefix(m.Body, "Rappel : « Stand-up »") || !strings.HasSuffix(m.Body, "\nGérer les notifications : "+prefLink) {
		t.Errorf("body:\n%s", m.Body)
	}
	if cal, ok := m.Element(CalendarNS); !ok || !strings.Contains(cal.Text, "UID:standup-1") || strings.Contains(cal.Text, "preferences") {
		t.Errorf("calendar element %+v, %v", cal, ok)
	}

	req = &delivery.Request{DeliveryID: "digest-link", System: "cal", Principal: "/dav/principals/user/wilma/", Address: wilmaJID,
		Locale: "en", TimeZone: paris, Digest: teamDigest(), PreferencesURL: prefLink,
		Method: notifyd.DeliveryMethod{ID: "m1", Channel: notifyd.ChannelIM, Address: wilmaJID, Enabled: true, Presence: notifyd.PresenceOnlineOnly}}
	if res, err := c.Send(context.Background(), req); err != nil || res.Skipped != "" {
		t.Fatalf("Send digest: %+v, %v", res, err)
	}
	got := wilma.WaitMessages(t, 2, 10*time.Second)
	if body := got[1].Body; !strings.HasPrefix(body, "3 calendar updates:\nTeam:\n") || !strings.HasSuffix(body, "\nManage notifications: "+prefLink) {
		t.Errorf("digest body:\n%s", body)
	}
}
