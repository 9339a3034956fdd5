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

// teamDigest is an hour of changes held for a digest: "Standup" in
// "Team" moved twice by Fred (to Wednesday 9 December 2026, 11:00 Paris
// time), a "Draft" created and deleted, "Retro" deleted, and Wilma
// sharing "Holidays".
func teamDigest() *delivery.Digest {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	team := notifyd.Collection{Href: "/dav/calendars/user/fred/Team/", DisplayName: "Team"}
	update := func(typ notifyd.NotificationType, uid, summary string, start time.Time, fields ...notifyd.FieldChange) *notifyd.Notification {
		comp, action, _ := strings.Cut(string(typ), "-")
		return &notifyd.Notification{Type: typ, DTStamp: at(8, 8), Calendar: team,
			Event:  &notifyd.Event{UID: uid, Summary: summary, Start: start, End: start.Add(15 * time.Minute)},
			Update: &notifyd.Update{Component: comp, Action: action, UID: uid, By: notifyd.Person{CommonName: "Fred"}, Fields: fields}}
	}
	moved := func(from, to int) *notifyd.Notification {
		return update(notifyd.TypeEventModified, "standup", "Standup", at(9, to),
			notifyd.FieldChange{Field: notifyd.FieldStart, FromTime: at(9, from), ToTime: at(9, to)},
			notifyd.FieldChange{Field: notifyd.FieldEnd, FromTime: at(9, from).Add(15 * time.Minute), ToTime: at(9, to).Add(15 * time.Minute)})
	}
	items := []*notifyd.Notification{
		moved(8, 9),
		update(notifyd.TypeEventCreated, "draft", "Draft", at(10, 9)),
		moved(9, 10),
		update(notifyd.TypeEventDeleted, "draft", "Draft", at(10, 9)),
		update(notifyd.TypeEventDeleted, "retro", "Retro", at(11, 15)),
		{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Wilma"},
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Holidays/", DisplayName: "Holidays"}, Access: "read"},
	}
	d := &delivery.Digest{Since: at(8, 8), Until: at(8, 9)}
	for i, n := range items {
		d.Items = append(d.Items, delivery.DigestItem{DeliveryID: "d" + string(rune('1'+i)), Notification: n})
	}
	return d
}

// A digest pop-up: how many updates, each calendar's name, and each
// entry in its own message's first lines, in English and French.
func TestRenderDigest(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ locale, want string }{
		{"en", "3 calendar updates:\nTeam:\n" +
			"• The event “Standup” was changed by Fred:\n  Moved: Wednesday 9 December 2026, 09:00 → 11:00 CET\n" +
			"• Deleted: “Retro”\n  When: Friday 11 December 2026, 16:00–16:15 CET\n  Deleted by Fred.\n" +
			"Holidays:\n• Wilma shared the calendar “Holidays” with you (read-only).\n  Open your calendar app to accept or decline."},
		{"fr", "3 mises à jour de vos calendriers :\nTeam :\n" +
			"• L’événement « Standup » a été modifié par Fred :\n  Déplacement : mercredi 9 décembre 2026 à 09:00 → 11:00 (CET)\n"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			d := teamDigest()
			m, err := r.RenderDigest(DigestInput{Digest: message.Collapse(d.Items), Recipient: "wilma@example.org",
				Locale: tc.locale, TimeZone: paris, DeliveryID: "digest-1"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Body, tc.want) {
				t.Errorf("body:\n%s\nwant it to start with:\n%s", m.Body, tc.want)
			}
			if m.ID != "notifyd-digest-1" || m.Calendar != "" || m.Lang != tc.locale {
				t.Errorf("message %+v", m)
			}
		})
	}
}

// A digest of many entries lists those that fit in a pop-up, whole, and
// says how many more there are.
func TestRenderDigestManyEntries(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var items []delivery.DigestItem
	for i := range 100 {
		n := message.Sample(notifyd.TypeEventDeleted)
		n.Update.UID = string(rune('A' + i))
		items = append(items, delivery.DigestItem{DeliveryID: "d", Notification: n})
	}
	m, err := r.RenderDigest(DigestInput{Digest: message.Collapse(items), Recipient: "wilma@example.org", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(m.Body); n > maxBodyRunes {
		t.Errorf("%d characters, over %d", n, maxBodyRunes)
	}
	if !strings.HasPrefix(m.Body, "100 calendar updates in “Work”:\n• ") || !strings.Contains(m.Body, "more: open your calendar app to see them all.") {
		t.Errorf("body:\n%s", m.Body)
	}
	if strings.Contains(m.Body, "…\n") {
		t.Errorf("an entry was cut:\n%s", m.Body)
	}
}

// Against a real XMPP server (Prosody): a digest is one chat message;
// one whose changes all cancelled out is skipped.
func TestDigestAgainstProsody(t *testing.T) {
	p := peertest.StartProsody(t, "notifyd", "wilma")
	wilmaJID := p.JID("wilma")
	wilma := p.Login(t, "wilma")
	c := prosodyChannel(t, p, config.TLSStartTLS)
	c.WatchAddresses(func(context.Context) ([]string, error) { return []string{wilmaJID}, nil })
	wilma.WaitMutual(t, p.JID("notifyd"), 10*time.Second)
	waitUntil(t, 5*time.Second, "the channel sees wilma online", func() bool { return c.reachOf(wilmaJID) == "online" })

	req := &delivery.Request{DeliveryID: "digest-1", System: "cal", Principal: "/dav/principals/user/wilma/", Address: wilmaJID,
		Locale: "en", TimeZone: paris, Digest: teamDigest(),
		Method: notifyd.DeliveryMethod{ID: "m1", Channel: notifyd.ChannelIM, Address: wilmaJID, Enabled: true, Presence: notifyd.PresenceOnlineOnly}}
	res, err := c.Send(context.Background(), req)
	if err != nil || res.Skipped != "" || res.ProviderID != "notifyd-digest-1" {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	got := wilma.WaitMessages(t, 1, 10*time.Second)
	if !strings.HasPrefix(got[0].Body, "3 calendar updates:\nTeam:\n• The event “Standup” was changed by Fred:") {
		t.Errorf("body:\n%s", got[0].Body)
	}

	undone := teamDigest()
	undone.Items = []delivery.DigestItem{undone.Items[1], undone.Items[3]}
	req.Digest, req.DeliveryID = undone, "digest-2"
	res, err = c.Send(context.Background(), req)
	if err != nil || res.Skipped != message.DigestUndone {
		t.Errorf("Send of an undone digest: %+v, %v", res, err)
	}
}
