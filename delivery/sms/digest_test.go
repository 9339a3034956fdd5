package sms

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// teamDigest is an hour of changes held for a digest (Tuesday 8
// December 2026, 09:00–10:00 in Paris): "Standup" in "Team" moved twice
// (to 11:00 Paris time), a "Draft" created and deleted, "Retro"
// cancelled, "Lunch" renamed, and Wilma sharing "Holidays".
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
		update(notifyd.TypeEventModified, "retro", "Retro", at(11, 15), notifyd.FieldChange{Field: notifyd.FieldStatus, From: "CONFIRMED", To: "CANCELLED"}),
		update(notifyd.TypeEventModified, "lunch", "Lunch with Ann", at(12, 11), notifyd.FieldChange{Field: notifyd.FieldSummary, From: "Lunch", To: "Lunch with Ann"}),
		{Type: notifyd.TypeShareInvite, From: notifyd.Person{CommonName: "Wilma"},
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Holidays/", DisplayName: "Holidays"}, Access: "read"},
	}
	d := &delivery.Digest{Since: at(8, 8), Until: at(8, 9)}
	for i, n := range items {
		d.Items = append(d.Items, delivery.DigestItem{DeliveryID: "d" + string(rune('1'+i)), Notification: n})
	}
	return d
}

// A digest in one text: how many updates, then each in a few words, as
// many whole ones as the segments hold, and how many more.
func TestRenderDigest(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	for _, tc := range []struct {
		name, locale string
		segments     int
		want         string
	}{
		{"all of it", "en", 3,
			`4 updates: Moved: "Standup" -> Wed 9 Dec 11:00; Cancelled: "Retro", Fri 11 Dec 2026 16:00-16:15 CET; Renamed: "Lunch" -> "Lunch with Ann"; Wilma shared the calendar "Holidays" with you (read-only). Accept or decline it in your calendar app`},
		{"one segment", "en", 1,
			`4 updates: Moved: "Standup" -> Wed 9 Dec 11:00; Cancelled: "Retro", Fri 11 Dec 2026 16:00-16:15 CET; Renamed: "Lunch" -> "Lunch with Ann"; +1 more`},
		{"in French", "fr", 1,
			`4 mises à jour : Déplacé : "Standup" -> mer. 9 déc. 11h00; Annulé : "Retro", ven. 11 déc. 2026 16h00-16h15 CET; Renommé : "Lunch" -> "Lunch with Ann"; +1 autre`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := teamDigest()
			got, err := r.RenderDigest(DigestInput{Digest: message.Collapse(d.Items), Locale: tc.locale, TimeZone: paris, MaxSegments: tc.segments})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if _, n := Segments(got); n > tc.segments {
				t.Errorf("%d segments, want at most %d", n, tc.segments)
			}
		})
	}
}

// An entry too long for the text is cut after a word, and the text
// still says how many more there are; a lone entry stands alone.
func TestRenderDigestLongEntry(t *testing.T) {
	r := mustRenderer(t)
	d := teamDigest()
	// An emoji makes the text UCS-2: 70 characters a segment.
	d.Items[0].Notification.Event.Summary = "📅 Quarterly planning review"
	d.Items[2].Notification.Event.Summary = "📅 Quarterly planning review"
	in := DigestInput{Digest: message.Collapse(d.Items), Locale: "en", MaxSegments: 10}
	whole, err := r.RenderDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	in.MaxSegments = 1
	got, err := r.RenderDigest(in)
	if err != nil {
		t.Fatal(err)
	}
	cut, ok := strings.CutSuffix(got, "…; +3 more")
	if enc, n := Segments(got); n != 1 || enc != UCS2 || !ok || !strings.HasPrefix(whole, cut) || whole[len(cut)] != ' ' {
		t.Errorf("%v, %d segments: %q (whole: %q)", enc, n, got, whole)
	}

	one := message.Collapse(d.Items[5:6])
	got, err = r.RenderDigest(DigestInput{Digest: one, Locale: "en", MaxSegments: 1})
	if err != nil || got != `1 update in "Team": Renamed: "Lunch" -> "Lunch with Ann"` {
		t.Errorf("%q, %v", got, err)
	}
}
