package sms

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// reminder is a reminder of "Budget review", 09:00–10:00 in Paris on 1
// December 2026, ringing at 08:45 less daysBefore days.
func reminder(daysBefore int) *notifyd.Notification {
	return &notifyd.Notification{Type: notifyd.TypeReminder,
		Calendar: notifyd.Collection{DisplayName: "Work"},
		Event: &notifyd.Event{UID: "budget-1", Summary: "Budget review", Location: "Room 4",
			Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{UID: "budget-1", Component: "event", Action: "DISPLAY",
			Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC).AddDate(0, 0, -daysBefore)}}
}

func TestRenderReminderAlarm(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	change := func(n *notifyd.Notification, f func(n *notifyd.Notification)) *notifyd.Notification { f(n); return n }
	task := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Send the report", End: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{Component: "task", Due: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), Trigger: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)}}
	allDay := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Christmas fair", AllDay: true,
		Start: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{Component: "event", Trigger: time.Date(2026, 12, 23, 17, 0, 0, 0, time.UTC)}}
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		want         string
	}{
		{"today", "en", reminder(0), "Reminder: Budget review, 09:00-10:00, Room 4"},
		{"today, in French", "fr", reminder(0), "Rappel : Budget review, 9h00-10h00, Room 4"},
		{"today, US English", "en-US", reminder(0), "Reminder: Budget review, 9:00 AM-10:00 AM, Room 4"},
		{"tomorrow", "en", reminder(1), "Reminder: Budget review, tomorrow 09:00-10:00, Room 4"},
		{"tomorrow, in French", "fr", reminder(1), "Rappel : Budget review, demain 9h00-10h00, Room 4"},
		{"in a week", "en", reminder(7), "Reminder: Budget review, Tue 1 Dec 2026 09:00-10:00, Room 4"},
		{"in a week, in French", "fr", reminder(7), "Rappel : Budget review, mar. 1er déc. 2026 9h00-10h00, Room 4"},
		{"all day, tomorrow", "en", allDay, "Reminder: Christmas fair, tomorrow"},
		{"all day, tomorrow, in French", "fr", allDay, "Rappel : Christmas fair, demain"},
		{"all day, later", "fr", &notifyd.Notification{Type: allDay.Type, Event: allDay.Event, Reminder: &notifyd.Reminder{Trigger: allDay.Reminder.Trigger.AddDate(0, 0, -7)}},
			"Rappel : Christmas fair, jeu. 24 déc. 2026 (journée)"},
		{"a task with only a due time", "en", task, "Reminder: Send the report, due 17:00"},
		{"a task with only a due time, in French", "fr", task, "Rappel : Send the report, échéance 17h00"},
		{"late", "en", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.LateSeconds = 12 * 60 }),
			"Reminder: Budget review, 09:00-10:00, Room 4 (12 min late)"},
		{"late, in French", "fr", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.LateSeconds = 12 * 60 }),
			"Rappel : Budget review, 9h00-10h00, Room 4 (12 min de retard)"},
		{"snoozed", "en", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.Snooze = true }),
			"Reminder (snoozed): Budget review, 09:00-10:00, Room 4"},
		{"snoozed, in French", "fr", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.Snooze = true }),
			"Rappel (reporté) : Budget review, 9h00-10h00, Room 4"},
		{"the alarm's own text", "en", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.Text = "Bring the “Q4” figures…" }),
			`Reminder: Budget review, 09:00-10:00, Room 4. Bring the "Q4" figures...`},
		{"a placeholder text is not shown", "en", change(reminder(0), func(n *notifyd.Notification) { n.Reminder.Text = "Default Mozilla Description" }),
			"Reminder: Budget review, 09:00-10:00, Room 4"},
		{"no summary, no place", "en", change(reminder(0), func(n *notifyd.Notification) { n.Event.Summary, n.Event.Location = "", "" }),
			"Reminder: untitled, 09:00-10:00"},
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

// A long summary, place or text is cut so that the reminder fits its
// segments with its time: the end of the text is not what goes.
func TestRenderReminderFitsItsSegments(t *testing.T) {
	r := mustRenderer(t)
	paris := loadZone(t, "Europe/Paris")
	for _, tc := range []struct {
		name     string
		summary  string
		location string
		text     string
		segments int
		want     []string
	}{
		{"long fields, GSM-7", strings.Repeat("Quarterly budget review ", 3), "Conference room 4, building B, third floor, east wing",
			"Bring the figures for the board, the auditors and the regional managers", 1,
			[]string{"Reminder: Quarterly budget", "09:00-10:00, Conference room"}},
		{"a summary in UCS-2", "Revue trimestrielle 🎉 du budget et des prévisions", "Salle du conseil, bâtiment B", "", 1,
			[]string{"Reminder: Revue", "09:00-10:00, Salle"}},
		{"a hostile text of 1 MB", "Budget", strings.Repeat("Room ", 1<<18), strings.Repeat("\u202e“x” ", 1<<18), 2,
			[]string{"Reminder: Budget, 09:00-10:00, Room Room"}},
		{"several segments allowed: all of it", strings.Repeat("Quarterly budget review ", 2), "Room 4", "Bring the figures", 3,
			[]string{"Reminder: Quarterly budget review Quarterly budget review, 09:00-10:00, Room 4. Bring the figures"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := reminder(0)
			n.Event.Summary, n.Event.Location, n.Reminder.Text = tc.summary, tc.location, tc.text
			got, err := r.Render(RenderInput{Notification: n, Locale: "en", TimeZone: paris, MaxSegments: tc.segments})
			if err != nil {
				t.Fatal(err)
			}
			if _, segs := Segments(got); segs > tc.segments || !utf8.ValidString(got) {
				t.Errorf("%d segments (at most %d): %q", segs, tc.segments, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
	// Without a number of segments, the text is written with the
	// template's own cuts (the summary at 60 characters).
	n := reminder(0)
	n.Event.Summary = strings.Repeat("Quarterly budget review ", 3)
	got, err := r.Render(RenderInput{Notification: n, Locale: "en", TimeZone: paris})
	if err != nil {
		t.Fatal(err)
	}
	if _, segs := Segments(got); segs != 1 || got != "Reminder: Quarterly budget review Quarterly budget review..., 09:00-10:00, Room 4" {
		t.Errorf("%d segments: %q", segs, got)
	}
}
