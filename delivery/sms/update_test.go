package sms

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// meeting is an update of "Team meeting" in "Work", 1 hour long, moved
// from Tuesday 8 December 2026 10:00 to Wednesday 9 December 14:00 in
// Paris, by Fred, on 1 December; change adds to it.
func meeting(change func(n *notifyd.Notification)) *notifyd.Notification {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	n := &notifyd.Notification{Type: notifyd.TypeEventModified, DTStamp: at(1, 8),
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Work"},
		Event:    &notifyd.Event{UID: "meeting-1", Summary: "Team meeting", Location: "Room 2", Start: at(9, 13), End: at(9, 14)},
		Update: &notifyd.Update{Component: "event", Action: "modified", UID: "meeting-1", By: notifyd.Person{CommonName: "Fred"},
			Fields: []notifyd.FieldChange{
				{Field: notifyd.FieldStart, FromTime: at(8, 9), ToTime: at(9, 13)},
				{Field: notifyd.FieldEnd, FromTime: at(8, 10), ToTime: at(9, 14)},
			}}}
	if change != nil {
		change(n)
	}
	return n
}

// report is a task "Send the report" in "Tasks", due Friday 4 December
// 2026 at 17:00 in Paris; change says what changed.
func report(change func(n *notifyd.Notification)) *notifyd.Notification {
	n := &notifyd.Notification{Type: notifyd.TypeTodoModified, DTStamp: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		Calendar: notifyd.Collection{DisplayName: "Tasks"},
		Event:    &notifyd.Event{UID: "report-1", Summary: "Send the report", Due: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)},
		Update:   &notifyd.Update{Component: "todo", Action: "modified", UID: "report-1"}}
	change(n)
	return n
}

// fields sets an update's changes.
func fields(f ...notifyd.FieldChange) func(n *notifyd.Notification) {
	return func(n *notifyd.Notification) { n.Update.Fields = f }
}

// A calendar update in a few words: its main change first, in the
// recipient's zone and language, within one segment.
func TestRenderUpdate(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	location := notifyd.FieldChange{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"}
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		want         string
	}{
		{"moved", "en", meeting(nil), `Moved: "Team meeting" -> Wed 9 Dec 14:00 in "Work". By Fred.`},
		{"moved, in French", "fr", meeting(nil), `Déplacé : "Team meeting" -> mer. 9 déc. 14h00 dans "Work". Par Fred.`},
		{"moved, US English", "en-US", meeting(nil), `Moved: "Team meeting" -> Wed Dec 9 2:00 PM in "Work". By Fred.`},
		{"moved and a new place", "en", meeting(func(n *notifyd.Notification) { n.Update.Fields = append(n.Update.Fields, location) }),
			`Moved: "Team meeting" -> Wed 9 Dec 14:00 in "Work". Also: location Room 2. By Fred.`},
		{"moved and a new place, in French", "fr", meeting(func(n *notifyd.Notification) { n.Update.Fields = append(n.Update.Fields, location) }),
			`Déplacé : "Team meeting" -> mer. 9 déc. 14h00 dans "Work". Aussi : lieu Room 2. Par Fred.`},
		{"when the change was made is not known: the year is said", "en", meeting(func(n *notifyd.Notification) { n.DTStamp = time.Time{} }),
			`Moved: "Team meeting" -> Wed 9 Dec 2026 14:00 in "Work". By Fred.`},
		{"one occurrence", "en", meeting(func(n *notifyd.Notification) { n.Update.RecurrenceID = "20261208T090000Z" }),
			`Moved: "Team meeting" -> Wed 9 Dec 14:00 (one occurrence) in "Work". By Fred.`},
		{"only the place, by someone unknown", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields, n.Update.By = []notifyd.FieldChange{location}, notifyd.Person{}
		}),
			`Changed: "Team meeting" in "Work": location Room 2.`},
		{"the sender made it when the update does not say", "fr", meeting(func(n *notifyd.Notification) {
			n.Update.Fields, n.Update.By, n.From = []notifyd.FieldChange{{Field: notifyd.FieldRecurrence}}, notifyd.Person{}, notifyd.Person{Href: "mailto:wilma@example.org"}
		}), `Modifié : "Team meeting" dans "Work" : répétition. Par wilma@example.org.`},
		{"moved to another calendar", "en", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldCalendar, From: "Work", To: "Team"})),
			`Changed: "Team meeting" in "Work": now in "Team". By Fred.`},
		{"moved to another calendar, in French", "fr", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldCalendar, From: "Work", To: "Team"})),
			`Modifié : "Team meeting" dans "Work" : désormais dans "Team". Par Fred.`},
		{"cancelled", "en", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldStatus, From: "CONFIRMED", To: "CANCELLED"})),
			`Cancelled: "Team meeting", Wed 9 Dec 2026 14:00-15:00 CET in "Work". By Fred.`},
		{"cancelled, in French", "fr", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldStatus, From: "CONFIRMED", To: "CANCELLED"})),
			`Annulé : "Team meeting", mer. 9 déc. 2026 14h00-15h00 CET dans "Work". Par Fred.`},
		{"retitled", "en", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldSummary, From: "Weekly sync", To: "Team meeting"})),
			`Renamed: "Weekly sync" -> "Team meeting" in "Work". By Fred.`},
		{"only the end", "en", meeting(fields(notifyd.FieldChange{Field: notifyd.FieldEnd, FromTime: day(9).Add(14 * time.Hour), ToTime: day(9).Add(15 * time.Hour)})),
			`New end: "Team meeting" -> Wed 9 Dec 16:00 in "Work". By Fred.`},
		{"an all-day event moved a day", "en", meeting(func(n *notifyd.Notification) {
			n.Event = &notifyd.Event{Summary: "Christmas fair", AllDay: true, Start: day(25), End: day(26)}
			n.Update.Fields = []notifyd.FieldChange{
				{Field: notifyd.FieldStart, FromTime: day(24), ToTime: day(25), AllDay: true},
				{Field: notifyd.FieldEnd, FromTime: day(25), ToTime: day(26), AllDay: true}}
		}), `Moved: "Christmas fair" -> Fri 25 Dec in "Work". By Fred.`},
		{"a task completed", "en", report(fields(notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true"})),
			`Completed: "Send the report" in "Tasks".`},
		{"a task completed, in French", "fr", report(fields(notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true"})),
			`Terminé : "Send the report" dans "Tasks".`},
		{"a task no longer completed", "en", report(fields(notifyd.FieldChange{Field: notifyd.FieldCompleted, From: "true"})),
			`Reopened: "Send the report" in "Tasks".`},
		{"a task's due date moved", "en", report(fields(notifyd.FieldChange{Field: notifyd.FieldDue,
			FromTime: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)})),
			`New due date: "Send the report" -> Fri 4 Dec 17:00 in "Tasks".`},
		{"a task's due date moved, in French", "fr", report(fields(notifyd.FieldChange{Field: notifyd.FieldDue,
			FromTime: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)})),
			`Nouvelle échéance : "Send the report" -> ven. 4 déc. 17h00 dans "Tasks".`},
		{"a calendar renamed, by nobody known", "en", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Calendar: notifyd.Collection{DisplayName: "Projects"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Work", To: "Projects"}}}},
			`Calendar renamed: "Work" -> "Projects".`},
		{"an update without its Update says what its type says", "en", &notifyd.Notification{Type: notifyd.TypeEventDeleted, Event: &notifyd.Event{Summary: "Lunch"}},
			`Deleted: "Lunch".`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Render(RenderInput{Notification: tc.n, Locale: tc.locale, TimeZone: paris, MaxSegments: 1})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
			if enc, segs := Segments(got); enc != GSM7 || segs != 1 {
				t.Errorf("%v in %d segments", enc, segs)
			}
		})
	}
}

// Hostile text stays on one line without control characters, and a long
// title is cut so that the new time still fits.
func TestRenderUpdateHostile(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	n := meeting(func(n *notifyd.Notification) {
		n.Event.Summary = "Team\r\nmeeting\x00 \u202egnitaem " + strings.Repeat("very long title ", 1<<14)
		n.Update.By = notifyd.Person{CommonName: "Fred\nSTOP"}
		n.Update.Fields = append(n.Update.Fields, notifyd.FieldChange{Field: notifyd.FieldLocation, From: "x", To: "Room\x1b[31m 2\u2028"})
	})
	got, err := r.Render(RenderInput{Notification: n, Locale: "en", TimeZone: paris, MaxSegments: 2})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got, "\r\n\x00\x1b\u202e\u2028") {
		t.Errorf("control characters in %q", got)
	}
	if _, segs := Segments(got); segs > 2 {
		t.Errorf("%d segments: %q", segs, got)
	}
	for _, w := range []string{`Moved: "Team meeting gnitaem`, `-> Wed 9 Dec 14:00 in "Work". Also: location Room [31m 2. By Fred STOP.`} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
}
