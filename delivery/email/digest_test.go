package email

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// teamDigest is an hour of changes held for a digest (Tuesday 8
// December 2026, 09:00–10:00 in Paris): "Standup" in "Team" moved twice
// by Fred (09:00 → 10:00 → 11:00 Paris time) and moved to Room 2, a
// "Draft" created and deleted, "Retro" deleted, Wilma sharing
// "Holidays", and "Lunch" in "Home" renamed.
func teamDigest() *delivery.Digest {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	team := notifyd.Collection{Href: "/dav/calendars/user/fred/Team/", DisplayName: "Team"}
	home := notifyd.Collection{Href: "/dav/calendars/user/wilma/Home/", DisplayName: "Home"}
	update := func(typ notifyd.NotificationType, cal notifyd.Collection, uid, summary string, start time.Time, fields ...notifyd.FieldChange) *notifyd.Notification {
		comp, action, _ := strings.Cut(string(typ), "-")
		return &notifyd.Notification{Type: typ, DTStamp: at(8, 8), Calendar: cal,
			Event:  &notifyd.Event{UID: uid, Summary: summary, Location: "Room 2", Start: start, End: start.Add(15 * time.Minute)},
			Update: &notifyd.Update{Component: comp, Action: action, UID: uid, By: notifyd.Person{CommonName: "Fred"}, Fields: fields}}
	}
	moved := func(from, to int, more ...notifyd.FieldChange) *notifyd.Notification {
		return update(notifyd.TypeEventModified, team, "standup", "Standup", at(9, to), append([]notifyd.FieldChange{
			{Field: notifyd.FieldStart, FromTime: at(9, from), ToTime: at(9, to)},
			{Field: notifyd.FieldEnd, FromTime: at(9, from).Add(15 * time.Minute), ToTime: at(9, to).Add(15 * time.Minute)}}, more...)...)
	}
	items := []*notifyd.Notification{
		moved(8, 9),
		update(notifyd.TypeEventCreated, team, "draft", "Draft", at(10, 9)),
		moved(9, 10, notifyd.FieldChange{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"}),
		update(notifyd.TypeEventDeleted, team, "draft", "Draft", at(10, 9)),
		update(notifyd.TypeEventDeleted, team, "retro", "Retro", at(11, 15)),
		{Type: notifyd.TypeShareInvite, From: notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"},
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Holidays/", DisplayName: "Holidays"}, Access: "read"},
		update(notifyd.TypeEventModified, home, "lunch", "Lunch with Ann", at(12, 11),
			notifyd.FieldChange{Field: notifyd.FieldSummary, From: "Lunch", To: "Lunch with Ann"}),
	}
	d := &delivery.Digest{Since: at(8, 8), Until: at(8, 9)}
	for i, n := range items {
		d.Items = append(d.Items, delivery.DigestItem{DeliveryID: "d" + string(rune('1'+i)), Notification: n})
	}
	return d
}

// digestInput is the DigestInput of teamDigest with the usual test
// values.
func digestInput(locale string) DigestInput {
	d := teamDigest()
	in := input(nil)
	return DigestInput{Digest: message.Collapse(d.Items), Since: d.Since, Until: d.Until,
		System: in.System, Principal: in.Principal, Recipient: in.Recipient, Locale: locale, TimeZone: paris,
		UnsubscribeURL: in.UnsubscribeURL, MessageIDDomain: in.MessageIDDomain, DeliveryID: "digest-0190f3c2",
		PreferencesURL: "https://notifyd.example.org/preferences/tok456"}
}

// What a person reads of a digest: a subject counting what happened,
// each event once in its latest state under its calendar, with what
// changed in words, in English and French; the links to manage
// notifications and to unsubscribe.
func TestRenderDigest(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		locale, subject string
		text            []string // in the text part, and in the HTML one
		textOnly        []string
		htmlOnly        []string
	}{
		{"en", "4 calendar updates",
			[]string{"4 updates from your calendars, Tuesday 8 December 2026, 09:00–10:00 CET:",
				"Moved: “Standup”, now Wednesday 9 December 2026, 11:00–11:15 CET", "Location: Room 1 → Room 2", "By Fred.",
				"Deleted: “Retro”, Friday 11 December 2026, 16:00–16:15 CET",
				"Wilma shared the calendar “Holidays” with you (read-only)",
				"Renamed: “Lunch” → “Lunch with Ann”"},
			[]string{"Team\n\n  * Moved: “Standup”, now Wednesday 9 December 2026, 11:00–11:15 CET\n    - Moved: Wednesday 9 December 2026, 09:00 → 11:00 CET\n    - Location: Room 1 → Room 2\n    By Fred.\n\n  * Deleted: “Retro”",
				"\nHoliday", "\nHome\n",
				"To choose what you receive and when, manage your notifications: https://notifyd.example.org/preferences/tok456",
				"To stop these emails, unsubscribe with one click: https://notifyd.example.org/unsubscribe/tok123"},
			[]string{`<a href="https://notifyd.example.org/preferences/tok456" style="color:#57606a;">Manage notifications</a>`,
				`<h2 style="margin:20px 0 8px;font-size:16px;line-height:1.4;">Team</h2>`}},
		{"fr", "Résumé : 4 mises à jour",
			[]string{"4 mises à jour de vos calendriers, mardi 8 décembre 2026, de 09:00 à 10:00 (CET) :",
				"Déplacé : « Standup », désormais mercredi 9 décembre 2026, de 11:00 à 11:15 (CET)", "Lieu : Room 1 → Room 2", "Par Fred.",
				"« Lunch » → « Lunch with Ann »"},
			[]string{"gérez vos notifications : https://notifyd.example.org/preferences/tok456"},
			[]string{">Gérer les notifications</a>", ">Se désabonner en un clic</a>"}},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			m, err := r.RenderDigest(digestInput(tc.locale))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject {
				t.Errorf("subject %q, want %q", m.Subject, tc.subject)
			}
			contains(t, "text", m.Text, append(tc.text, tc.textOnly...)...)
			contains(t, "html", htmlText(m.HTML), tc.text...)
			contains(t, "html", m.HTML, tc.htmlOnly...)
			for _, part := range []string{m.Text, m.HTML} {
				lacks(t, "digest", part, "Draft", "Room 1 → Room 1", "10:00–10:15")
				if n := strings.Count(part, "Standup"); n != 1 {
					t.Errorf("“Standup” told %d times, want once:\n%s", n, part)
				}
			}
			if m.MessageID != "<notifyd.digest-0190f3c2@notifyd.example.org>" {
				t.Errorf("Message-ID %q", m.MessageID)
			}
			if m.Headers["List-Unsubscribe"] != "<https://notifyd.example.org/unsubscribe/tok123>" || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
				t.Errorf("headers %v", m.Headers)
			}
		})
	}
}

// htmlText is an HTML part as a person reads it: its tags left out, the
// entities written as characters.
func htmlText(h string) string {
	var b strings.Builder
	in := false
	for _, r := range h {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(b.String())
}

// One calendar is named in the subject; one entry is said in the
// singular; a digest without the links has neither.
func TestRenderDigestOneCalendar(t *testing.T) {
	r := newTestRenderer(t)
	in := digestInput("en")
	in.Digest.Groups = in.Digest.Groups[:1]
	in.Digest.Groups[0].Entries = in.Digest.Groups[0].Entries[:1]
	in.Digest.Entries = 1
	in.PreferencesURL, in.UnsubscribeURL = "", ""
	m, err := r.RenderDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "1 calendar update in “Team”" {
		t.Errorf("subject %q", m.Subject)
	}
	contains(t, "text", m.Text, "One update from your calendars")
	lacks(t, "text", m.Text, "manage", "unsubscribe")
	lacks(t, "html", m.HTML, "Manage", "Unsubscribe")
	if _, ok := m.Headers["List-Unsubscribe"]; ok {
		t.Error("List-Unsubscribe without a URL")
	}
}

// A digest of thousands of entries lists what fits within the limits
// and says how many more there are.
func TestRenderDigestCapsManyEntries(t *testing.T) {
	r := newTestRenderer(t)
	var items []delivery.DigestItem
	for i := range 5000 {
		n := message.Sample(notifyd.TypeEventModified)
		n.Update.UID = "e" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()
		n.Event.Summary = strings.Repeat("Long title ", 20)
		items = append(items, delivery.DigestItem{DeliveryID: "d", Notification: n})
	}
	in := digestInput("en")
	in.Digest = message.Collapse(items)
	m, err := r.RenderDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Text) > MaxTextBytes || len(m.HTML) > MaxHTMLBytes {
		t.Errorf("parts of %d and %d bytes", len(m.Text), len(m.HTML))
	}
	if m.Subject != "5000 calendar updates in “Work”" {
		t.Errorf("subject %q", m.Subject)
	}
	contains(t, "text", m.Text, "more: open your calendar app to see them all.", "unsubscribe with one click")
	contains(t, "html", m.HTML, "</html>")
}

// The channel sends a digest as one email, and nothing when everything
// in it was undone.
func TestChannelSendsDigest(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ch, err := NewChannel(ts.config(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := &delivery.Request{DeliveryID: "digest-1", Address: "wilma@example.org", Locale: "en", TimeZone: paris,
		Digest: teamDigest(), PreferencesURL: "https://notifyd.example.org/preferences/tok456"}
	res, err := ch.Send(context.Background(), req)
	if err != nil || res.Skipped != "" {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	got := ts.received()
	if len(got) != 1 {
		t.Fatalf("%d messages sent, want 1", len(got))
	}
	m, err := mail.ReadMessage(strings.NewReader(string(got[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Header.Get("Subject"); s != "4 calendar updates" {
		t.Errorf("subject %q", s)
	}
	if id := m.Header.Get("Message-Id"); id != "<notifyd.digest-1@example.org>" || !strings.Contains(id, strings.Trim(res.ProviderID, "<>")) {
		t.Errorf("Message-ID %q, provider ID %q", id, res.ProviderID)
	}

	undone := teamDigest()
	undone.Items = []delivery.DigestItem{undone.Items[1], undone.Items[3]} // Draft created, then deleted
	res, err = ch.Send(context.Background(), &delivery.Request{DeliveryID: "digest-2", Address: "wilma@example.org", Digest: undone})
	if err != nil || !strings.Contains(res.Skipped, "every change in the digest was undone") {
		t.Fatalf("Send of an undone digest: %+v, %v", res, err)
	}
	if n := len(ts.received()); n != 1 {
		t.Errorf("%d messages sent, want still 1", n)
	}
}
