package message

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// utc is a UTC time on 2026-12-DAY.
func utc(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, time.UTC)
}

// When the event starts or the task is due is said from the day the
// reminder is sent, in the recipient's zone.
func TestReminderWhen(t *testing.T) {
	paris, auckland, newYork := mustZone(t, "Europe/Paris"), mustZone(t, "Pacific/Auckland"), mustZone(t, "America/New_York")
	event := &notifyd.Event{Summary: "Budget review", Start: utc(1, 8, 0), End: utc(1, 9, 0)}
	allDay := &notifyd.Event{Summary: "Fair", AllDay: true, Start: utc(24, 0, 0), End: utc(25, 0, 0)}
	task := &notifyd.Event{Summary: "Send report"}
	taskWithStart := &notifyd.Event{Summary: "Send report", Start: utc(1, 8, 0), End: utc(1, 16, 0)}
	for _, tc := range []struct {
		name  string
		e     *notifyd.Event
		r     notifyd.Reminder
		style Style
		lang  string
		tag   string
		loc   *time.Location
		want  Reminder
	}{
		{"same day", event, notifyd.Reminder{Trigger: utc(1, 7, 45)}, Long, "en", "en", paris,
			Reminder{Day: "today", Date: "Tuesday 1 December 2026", At: "09:00", Until: "10:00", Rang: "08:45 CET"}},
		{"the day before, in French, short", event, notifyd.Reminder{Trigger: utc(1, 8, 0).AddDate(0, 0, -1)}, Short, "fr", "fr", paris,
			Reminder{Day: "tomorrow", Date: "mar. 1er déc. 2026", At: "9h00", Until: "10h00", Rang: "9h00 CET"}},
		{"a week before, US English", event, notifyd.Reminder{Trigger: utc(24, 8, 0).AddDate(0, -1, 0)}, Long, "en", "en-us", newYork,
			Reminder{Date: "Tuesday, December 1, 2026", At: "3:00 AM", Until: "4:00 AM", Rang: "3:00 AM EST"}},
		// 08:00 UTC is 21:00 in Auckland; the reminder at 20:45 NZDT is
		// the same day there, though not in UTC.
		{"the recipient's day, not UTC's", event, notifyd.Reminder{Trigger: utc(1, 7, 45)}, Long, "en", "en", auckland,
			Reminder{Day: "today", Date: "Tuesday 1 December 2026", At: "21:00", Until: "22:00", Rang: "20:45 NZDT"}},
		// Set for 23:50 the day before, sent at 00:10: the event is today,
		// and the alarm rang on another day than it is read.
		{"sent late: the day it is sent counts", event, notifyd.Reminder{Trigger: utc(1, 4, 50), LateSeconds: 20 * 60}, Long, "en", "en", newYork,
			Reminder{Day: "today", Date: "Tuesday 1 December 2026", At: "03:00", Until: "04:00", Rang: "Monday 30 November 2026, 23:50 EST", LateMinutes: 20}},
		{"over midnight: no until", &notifyd.Event{Start: utc(1, 22, 0), End: utc(2, 1, 0)}, notifyd.Reminder{Trigger: utc(1, 21, 0)}, Long, "en", "en", time.UTC,
			Reminder{Day: "today", Date: "Tuesday 1 December 2026", At: "22:00", Rang: "21:00 UTC"}},
		{"all day keeps its date in any zone", allDay, notifyd.Reminder{Trigger: utc(23, 8, 0)}, Long, "en", "en", newYork,
			Reminder{Day: "tomorrow", Date: "Thursday 24 December 2026", Rang: "03:00 EST"}},
		{"all day, the same day", allDay, notifyd.Reminder{Trigger: utc(24, 8, 0)}, Long, "en", "en", auckland,
			Reminder{Day: "today", Date: "Thursday 24 December 2026", Rang: "21:00 NZDT"}},
		{"a task with only DUE", task, notifyd.Reminder{Component: "task", Due: utc(1, 16, 0), Trigger: utc(1, 15, 0)}, Long, "en", "en", paris,
			Reminder{Task: true, Day: "today", Date: "Tuesday 1 December 2026", At: "17:00", Due: "Tuesday 1 December 2026, 17:00 CET", Rang: "16:00 CET"}},
		{"a task with a start: the due time counts", taskWithStart, notifyd.Reminder{Component: "TASK", Due: utc(1, 16, 0), Trigger: utc(1, 7, 0)}, Long, "fr", "fr", paris,
			Reminder{Task: true, Day: "today", Date: "mardi 1er décembre 2026", At: "17:00", Due: "mardi 1er décembre 2026 à 17:00 (CET)",
				Start: "mardi 1er décembre 2026 à 09:00 (CET)", Rang: "08:00 CET"}},
		{"an all-day task", &notifyd.Event{Summary: "Pay rent", AllDay: true}, notifyd.Reminder{Component: "task", Due: utc(3, 0, 0), Trigger: utc(2, 8, 0)}, Long, "en", "en", newYork,
			Reminder{Task: true, Day: "tomorrow", Date: "Thursday 3 December 2026", Due: "Thursday 3 December 2026", Rang: "03:00 EST"}},
		{"no time at all", &notifyd.Event{Summary: "Undated"}, notifyd.Reminder{Trigger: utc(1, 7, 0)}, Long, "en", "en", paris,
			Reminder{Rang: "08:00 CET"}},
		{"no trigger: no day", event, notifyd.Reminder{}, Long, "en", "en", paris,
			Reminder{Date: "Tuesday 1 December 2026", At: "09:00", Until: "10:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: tc.e, Reminder: &tc.r}
			got := Cleaner{}.Reminder(n, NewTimeFormat(tc.style, tc.lang, tc.tag, tc.loc))
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
	if got := (Cleaner{}).Reminder(&notifyd.Notification{Type: notifyd.TypeReminder}, NewTimeFormat(Long, "en", "en", nil)); got != nil {
		t.Errorf("a reminder without its Reminder: %+v, want nil", got)
	}
}

// What the alarm adds: its own text when it says more than the summary,
// the description in lines, how late, the snooze, the action.
func TestReminderTexts(t *testing.T) {
	tf := NewTimeFormat(Long, "en", "en", time.UTC)
	view := func(r notifyd.Reminder) *Reminder {
		n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Budget review"}, Reminder: &r}
		return Cleaner{}.Reminder(n, tf)
	}
	for text, want := range map[string]string{
		"Bring the Q4 figures":            "Bring the Q4 figures",
		"  Bring the\r\nQ4 \u202efigures": "Bring the Q4 figures",
		"Budget review":                   "",
		"budget review.":                  "",
		"Default Mozilla Description":     "",
		"This is an event reminder":       "",
		"Reminder":                        "",
		"":                                "",
	} {
		if got := view(notifyd.Reminder{Text: text}).Text; got != want {
			t.Errorf("text %q shows as %q, want %q", text, got, want)
		}
	}
	r := view(notifyd.Reminder{Description: "\n\nAgenda:\r\n1. Figures\n\n\n\n2. Plans\u2028Dial-in: 123\n\n", Action: "display", Snooze: true})
	if want := []string{"Agenda:", "1. Figures", "", "2. Plans", "Dial-in: 123"}; !reflect.DeepEqual(r.Description, want) {
		t.Errorf("description %q, want %q", r.Description, want)
	}
	if !r.Snooze || r.Action != "DISPLAY" {
		t.Errorf("snooze %v, action %q", r.Snooze, r.Action)
	}
	for late, want := range map[int64]int64{0: 0, 1: 1, 60: 1, 89: 1, 90: 2, 720: 12, 7200: 120} {
		if got := view(notifyd.Reminder{LateSeconds: late}).LateMinutes; got != want {
			t.Errorf("%d s late: %d minutes, want %d", late, got, want)
		}
	}
}

func TestLines(t *testing.T) {
	for in, want := range map[string][]string{
		"":                   nil,
		"\n \n":              nil,
		"a":                  {"a"},
		"a\r\rb":             {"a", "", "b"},
		" a \n\tb\x00c \n\n": {"a", "b c"},
	} {
		if got := (Cleaner{}).Lines(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Lines(%q) = %q, want %q", in, got, want)
		}
	}
}

// A reminder's texts are cut like the other fields, its identifiers left
// out when too long, and the original is not changed.
func TestShortenReminder(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	longID := strings.Repeat("a", MaxIDBytes+1)
	n := &notifyd.Notification{Type: notifyd.TypeReminder, Reminder: &notifyd.Reminder{
		Calendar: "/c/", Object: longID, UID: "u1", AlarmID: longID, Text: long, Description: long, Trigger: utc(1, 8, 0)}}
	size := TextSize(n)
	if want := len("/c/") + 2*len(longID) + len("u1") + 2*len(long); size != want {
		t.Errorf("TextSize %d, want %d", size, want)
	}
	got, cut := Shorten(n, 100)
	if !cut || got.Reminder == n.Reminder {
		t.Fatalf("Shorten: cut %v, the same Reminder %v", cut, got.Reminder == n.Reminder)
	}
	short := Truncate(long, 100)
	want := notifyd.Reminder{Calendar: "/c/", UID: "u1", Text: short, Description: short, Trigger: utc(1, 8, 0)}
	if *got.Reminder != want {
		t.Errorf("Shorten =\n%+v\nwant\n%+v", *got.Reminder, want)
	}
	if n.Reminder.Text != long || n.Reminder.Object != longID {
		t.Error("Shorten changed its argument")
	}
}

// An all-day instance whose dates come as the instants of their local
// midnight (as calendar/alarm gives them) reads as its dates, in the View
// and the iCalendar object; one given as dates is left alone.
func TestAllDayDates(t *testing.T) {
	paris, newYork := mustZone(t, "Europe/Paris"), mustZone(t, "America/New_York")
	midnight := func(loc *time.Location, day int) time.Time { return time.Date(2026, 12, day, 0, 0, 0, 0, loc).UTC() }
	for _, tc := range []struct {
		name       string
		start, end time.Time
		zone       string
	}{
		{"Paris midnights, in Paris", midnight(paris, 24), midnight(paris, 25), "Europe/Paris"},
		{"New York midnights, in New York", midnight(newYork, 24), midnight(newYork, 25), "America/New_York"},
		{"Paris midnights, zone unknown", midnight(paris, 24), midnight(paris, 25), "Nowhere/Special"},
		{"dates", utc(24, 0, 0), utc(25, 0, 0), "America/New_York"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{Summary: "Fair", AllDay: true, Start: tc.start, End: tc.end},
				Reminder: &notifyd.Reminder{UID: "fair", Component: "event", TimeZone: tc.zone, Trigger: utc(23, 12, 0)}}
			orig := *n.Event
			v := Cleaner{}.View(n, "", "", "", NewTimeFormat(Long, "en", "en", mustZone(t, "Pacific/Auckland")), "en", "en")
			if v.Event.When != "Thursday 24 December 2026 (all day)" || v.Reminder.Date != "Thursday 24 December 2026" {
				t.Errorf("when %q, date %q", v.Event.When, v.Reminder.Date)
			}
			if *n.Event != orig {
				t.Error("the notification was changed")
			}
			_, comp := decodeICS(t, FoldICal(ReminderCalendar(n, utc(23, 12, 0))))
			for name, want := range map[string]string{"DTSTART": "20261224", "DTEND": "20261225"} {
				if v, typ := prop(comp, name); v != want || typ != "DATE" {
					t.Errorf("%s %q (%s), want %s (DATE)", name, v, typ, want)
				}
			}
		})
	}
	task := &notifyd.Notification{Type: notifyd.TypeReminder, Event: &notifyd.Event{AllDay: true, End: midnight(paris, 3)},
		Reminder: &notifyd.Reminder{UID: "t", Component: "task", Due: midnight(paris, 3), TimeZone: "Europe/Paris", Trigger: utc(2, 8, 0)}}
	if r := (Cleaner{}).View(task, "", "", "", NewTimeFormat(Long, "en", "en", newYork), "en", "en").Reminder; r.Due != "Thursday 3 December 2026" || r.Day != "tomorrow" {
		t.Errorf("an all-day task: due %q, day %q", r.Due, r.Day)
	}
}
