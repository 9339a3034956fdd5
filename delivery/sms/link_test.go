package sms

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// prefLink is a preference link as notifyd makes them: the public URL,
// /preferences/ and a 60-character base64url token.
const prefLink = "https://cal.example/preferences/AQAAAAAAAAAqZ2Fyc2UtdGVzdC1zdWItMDAwMDAwMDFhYmNkZWZnaGlq"

// With the preference link, a text and a digest end with a line showing
// it, in the recipient's language, after the very text they have
// without it.
func TestRenderPreferencesLink(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	for _, tc := range []struct{ locale, line string }{
		{"en", "Manage alerts: " + prefLink},
		{"fr", "Gérer les alertes : " + prefLink},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			in := RenderInput{Notification: reminder(0), Locale: tc.locale, TimeZone: paris, MaxSegments: 3}
			plain, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			in.PreferencesURL = prefLink
			got, err := r.Render(in)
			if err != nil || got != plain+"\n"+tc.line {
				t.Errorf("single: %q, %v\nwant %q", got, err, plain+"\n"+tc.line)
			}
			if enc, n := Segments(got); enc != GSM7 || n > 3 {
				t.Errorf("single: %v, %d segments", enc, n)
			}

			d := DigestInput{Digest: message.Collapse(teamDigest().Items), Locale: tc.locale, TimeZone: paris, MaxSegments: 3}
			plain, err = r.RenderDigest(d)
			if err != nil {
				t.Fatal(err)
			}
			d.PreferencesURL = prefLink
			got, err = r.RenderDigest(d)
			if err != nil || got != plain+"\n"+tc.line {
				t.Errorf("digest: %q, %v\nwant %q", got, err, plain+"\n"+tc.line)
			}
			if _, n := Segments(got); n > 3 {
				t.Errorf("digest: %d segments", n)
			}
		})
	}
}

// A long summary is shortened so that the link fits, whole, with the
// reminder's time and place, in GSM-7 and in UCS-2; a digest lists fewer
// entries to keep it.
func TestRenderPreferencesLinkWithinSegments(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	for _, tc := range []struct {
		name, summary, location string
		segments                int
		enc                     Encoding
		want                    []string
	}{
		{"GSM-7", strings.Repeat("Quarterly budget review ", 3), "Room 4", 1, GSM7,
			[]string{"Reminder: Quarterly budg..., 09:00-10:00, Room 4\nManage alerts: " + prefLink}},
		{"UCS-2", "Revue trimestrielle 🎉 du budget et des prévisions pour l'année prochaine", "Salle du conseil, bâtiment B", 3, UCS2,
			[]string{"Reminder: Revue ", ", 09:00-10:00, Salle ", "\nManage alerts: " + prefLink}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := reminder(0)
			n.Event.Summary, n.Event.Location = tc.summary, tc.location
			in := RenderInput{Notification: n, Locale: "en", TimeZone: paris, MaxSegments: tc.segments}
			plain, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			in.PreferencesURL = prefLink
			got, linked, err := r.render(in)
			if err != nil {
				t.Fatal(err)
			}
			enc, segs := Segments(got)
			if !linked || enc != tc.enc || segs > tc.segments || !strings.HasSuffix(got, "\nManage alerts: "+prefLink) {
				t.Errorf("%v, %d segments (at most %d), linked %v: %q", enc, segs, tc.segments, linked, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			// The link took room that the summary gave up.
			if body, _, _ := strings.Cut(got, "\n"); len(body) >= len(plain) {
				t.Errorf("not shortened: %q, without the link %q", got, plain)
			}
		})
	}

	d := DigestInput{Digest: message.Collapse(teamDigest().Items), Locale: "en", TimeZone: paris, MaxSegments: 2, PreferencesURL: prefLink}
	got, linked, err := r.renderDigest(d)
	want := `4 updates: Moved: "Standup" -> Wed 9 Dec 11:00; Cancelled: "Retro", Fri 11 Dec 2026 16:00-16:15 CET; Renamed: "Lunch" -> "Lunch with Ann"; +1 more` +
		"\nManage alerts: " + prefLink
	if err != nil || !linked || got != want {
		t.Errorf("digest: %q, %v, linked %v\nwant %q", got, err, linked, want)
	}
	if _, n := Segments(got); n != 2 {
		t.Errorf("digest: %d segments", n)
	}
}

// When even the shortest text cannot fit with the link, the link is
// left out, never cut, and the text is the one it would be without it;
// a link a text should not show is left out too.
func TestRenderPreferencesLinkLeftOut(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	emoji := reminder(0)
	emoji.Event.Summary = "🎉 Revue trimestrielle du budget" // UCS-2 even cut
	many := &notifyd.Notification{Type: notifyd.TypeResourceChange, Calendar: notifyd.Collection{DisplayName: "Work"}}
	for range 40 {
		many.Changes = append(many.Changes, notifyd.Change{Kind: "updated", Summary: "Weekly meeting"})
	}
	for _, tc := range []struct {
		name     string
		n        *notifyd.Notification
		segments int
		link     string
	}{
		{"UCS-2 in one segment", emoji, 1, prefLink},
		{"a list too long even with short fields", many, 1, prefLink},
		{"not a link", reminder(0), 3, "javascript:alert(1)"},
		{"a link with a space", reminder(0), 3, "https://cal.example.org/preferences/a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := RenderInput{Notification: tc.n, Locale: "en", TimeZone: paris, MaxSegments: tc.segments}
			plain, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			in.PreferencesURL = tc.link
			got, linked, err := r.render(in)
			if err != nil || linked || got != plain {
				t.Errorf("%q, %v, linked %v; want %q", got, err, linked, plain)
			}
		})
	}

	// A digest whose one entry cannot fit with the link.
	d := teamDigest()
	d.Items[0].Notification.Event.Summary = "📅 Quarterly planning review"
	d.Items[2].Notification.Event.Summary = "📅 Quarterly planning review"
	in := DigestInput{Digest: message.Collapse(d.Items), Locale: "en", MaxSegments: 1}
	plain, err := r.RenderDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	in.PreferencesURL = prefLink
	got, linked, err := r.renderDigest(in)
	if err != nil || linked || got != plain {
		t.Errorf("digest: %q, %v, linked %v; want %q", got, err, linked, plain)
	}
}
