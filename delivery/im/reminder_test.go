package im

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// standupAlarm is a reminder of an instance of the recurring stand-up,
// ringing 15 minutes before.
func standupAlarm() *notifyd.Notification {
	return &notifyd.Notification{Type: notifyd.TypeReminder, Event: standup, Calendar: notifyd.Collection{DisplayName: "Work"},
		Reminder: &notifyd.Reminder{UID: "standup-1", RecurrenceID: "20261201T150000Z", AlarmID: "a1", Component: "event",
			Action: "DISPLAY", Trigger: standup.Start.Add(-15 * time.Minute)}}
}

// reportAlarm is a reminder of a task due at 17:00 CET.
func reportAlarm() *notifyd.Notification {
	due := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	return &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Send the report", Location: "Office", End: due},
		Reminder: &notifyd.Reminder{UID: "report-1", Component: "task", Due: due, Trigger: due.Add(-time.Hour)}}
}

// The pop-up: summary, time and place in the recipient's zone and
// language, and what the alarm adds.
func TestRenderReminderAlarm(t *testing.T) {
	r := newTestRenderer(t)
	change := func(n *notifyd.Notification, f func(r *notifyd.Reminder)) *notifyd.Notification {
		f(n.Reminder)
		return n
	}
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		want         string
	}{
		{"an event", "en", standupAlarm(),
			"Reminder: “Stand-up” in “Work”\nWhen: Tuesday 1 December 2026, 16:00–16:30 CET\nWhere: Room 4"},
		{"an event, in French", "fr", standupAlarm(),
			"Rappel : « Stand-up » dans « Work »\nQuand : mardi 1er décembre 2026, de 16:00 à 16:30 (CET)\nOù : Room 4"},
		{"a task", "en", reportAlarm(),
			"Reminder: “Send the report”\nDue: Tuesday 1 December 2026, 17:00 CET\nWhere: Office"},
		{"a task, in French", "fr", reportAlarm(),
			"Rappel : « Send the report »\nÉchéance : mardi 1er décembre 2026 à 17:00 (CET)\nOù : Office"},
		{"late, snoozed, with its text", "en", change(standupAlarm(), func(r *notifyd.Reminder) {
			r.LateSeconds, r.Snooze, r.Text = 600, true, "Bring the\nfigures"
		}), "Reminder (snoozed): “Stand-up” in “Work”\nWhen: Tuesday 1 December 2026, 16:00–16:30 CET\nWhere: Room 4\n" +
			"Note: Bring the figures\nThis reminder is 10 minutes late: it was set for 15:45 CET."},
		{"late, snoozed, with its text, in French", "fr", change(standupAlarm(), func(r *notifyd.Reminder) {
			r.LateSeconds, r.Snooze, r.Text = 60, true, "Apporter les chiffres"
		}), "Rappel (reporté) : « Stand-up » dans « Work »\nQuand : mardi 1er décembre 2026, de 16:00 à 16:30 (CET)\nOù : Room 4\n" +
			"Note : Apporter les chiffres\nCe rappel arrive avec 1 minute de retard : il était prévu pour 15:45 CET."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renderBody(t, r, tc.n, tc.locale)
			if m.Body != tc.want {
				t.Errorf("\n%s\nwant:\n%s", m.Body, tc.want)
			}
		})
	}
}

// parseCalendar reads a message's calendar object back with go-ical.
func parseCalendar(t *testing.T, s string) *ical.Component {
	t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	if len(cal.Children) != 1 {
		t.Fatalf("%d components:\n%s", len(cal.Children), s)
	}
	return cal.Children[0]
}

// The calendar part of a reminder is the instance: a VEVENT or a VTODO.
func TestRenderReminderCalendar(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		name  string
		n     *notifyd.Notification
		comp  string
		props map[string]string
	}{
		{"an event", standupAlarm(), "VEVENT", map[string]string{"UID": "standup-1", "RECURRENCE-ID": "20261201T150000Z",
			"DTSTART": "20261201T150000Z", "DTEND": "20261201T153000Z", "DTSTAMP": "20261201T144500Z", "SUMMARY": "Stand-up", "DUE": ""}},
		{"a task", reportAlarm(), "VTODO", map[string]string{"UID": "report-1", "DUE": "20261201T160000Z", "DTSTART": "",
			"SUMMARY": "Send the report", "LOCATION": "Office"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renderBody(t, r, tc.n, "fr")
			comp := parseCalendar(t, m.Calendar)
			if comp.Name != tc.comp {
				t.Errorf("%s, want %s", comp.Name, tc.comp)
			}
			for name, want := range tc.props {
				got := ""
				if p := comp.Props.Get(name); p != nil {
					got = p.Value
				}
				if got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

// Hostile long fields are cut: the pop-up stays a pop-up, says it was
// shortened, and its calendar part still names the instance.
func TestRenderReminderHostile(t *testing.T) {
	r := newTestRenderer(t)
	huge := strings.Repeat("<b>&amp;\u202e “x” 😀 ", 1<<16)
	n := standupAlarm()
	e := *n.Event
	e.Summary, e.Location = huge, huge
	n.Event = &e
	n.Reminder.Text, n.Reminder.Description = huge, huge
	n.Reminder.AlarmID = strings.Repeat("a", message.MaxIDBytes+1)
	for _, locale := range []string{"en", "fr"} {
		m := renderBody(t, r, n, locale)
		if c := utf8.RuneCountInString(m.Body); c > maxBodyRunes || !strings.Contains(m.Body, map[string]string{"en": "(Shortened: ", "fr": "(Message raccourci : "}[locale]) {
			t.Errorf("%s: body of %d characters:\n%.300s", locale, c, m.Body)
		}
		if len(esc(m.Calendar)) > MaxCalendarBytes || len(messageStanza(m, hintNoStore)) > MaxStanzaBytes {
			t.Errorf("%s: calendar %d bytes escaped, stanza %d", locale, len(esc(m.Calendar)), len(messageStanza(m, hintNoStore)))
		}
		comp := parseCalendar(t, m.Calendar)
		if p := comp.Props.Get("RECURRENCE-ID"); p == nil || p.Value != "20261201T150000Z" {
			t.Errorf("%s: RECURRENCE-ID %v", locale, p)
		}
	}
}
