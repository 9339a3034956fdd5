package message

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// modified is an event modification with fields, its event as it is now
// (Team meeting, 9 December 2026 13:00–14:00 UTC), changed on 1 December.
func modified(fields ...notifyd.FieldChange) *notifyd.Notification {
	return &notifyd.Notification{Type: notifyd.TypeEventModified, DTStamp: utc(1, 8, 0),
		Event:  &notifyd.Event{Summary: "Team meeting", Location: "Room 2", Start: utc(9, 13, 0), End: utc(9, 14, 0)},
		Update: &notifyd.Update{Fields: fields}}
}

// timeChange is a change of a time field.
func timeChange(field string, from, to time.Time) notifyd.FieldChange {
	return notifyd.FieldChange{Field: field, FromTime: from, ToTime: to}
}

// What changed, as templates see it: times in the recipient's zone and
// language, an event's start and end told together when it moved,
// statuses and completion in words a template picks.
func TestUpdateChanges(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	start, end := timeChange(notifyd.FieldStart, utc(8, 9, 0), utc(9, 13, 0)), timeChange(notifyd.FieldEnd, utc(8, 10, 0), utc(9, 14, 0))
	day := func(d int) time.Time { return utc(d, 0, 0) }
	allDay := func(f notifyd.FieldChange) notifyd.FieldChange { f.AllDay = true; return f }
	status := func(from, to string) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldStatus, From: from, To: to}
	}
	task := func(n *notifyd.Notification) *notifyd.Notification { n.Type = notifyd.TypeTodoModified; return n }
	for _, tc := range []struct {
		name        string
		n           *notifyd.Notification
		style       Style
		lang, tag   string
		want        []FieldChange
		wantMain    string
		wantRestLen int
	}{
		{"moved: the starts, the day said once per side", modified(start, end), Long, "en", "en",
			[]FieldChange{{Kind: "moved", From: "Tuesday 8 December 2026, 10:00", To: "Wednesday 9 December 2026, 14:00 CET", Brief: "Wednesday 9 December 14:00"}}, "moved", 0},
		{"moved, in French", modified(start, end), Long, "fr", "fr",
			[]FieldChange{{Kind: "moved", From: "mardi 8 décembre 2026 à 10:00", To: "mercredi 9 décembre 2026 à 14:00 (CET)", Brief: "mercredi 9 décembre 14:00"}}, "moved", 0},
		{"moved, short, US English", modified(start, end), Short, "en", "en-us",
			[]FieldChange{{Kind: "moved", From: "Tue Dec 8, 2026 4:00 AM", To: "Wed Dec 9, 2026 8:00 AM EST", Brief: "Wed Dec 9 8:00 AM"}}, "moved", 0},
		{"moved the same day: the time alone", modified(timeChange(notifyd.FieldStart, utc(9, 9, 0), utc(9, 13, 0)), timeChange(notifyd.FieldEnd, utc(9, 10, 0), utc(9, 14, 0))), Short, "fr", "fr",
			[]FieldChange{{Kind: "moved", From: "mer. 9 déc. 2026 10h00", To: "14h00 CET", Brief: "mer. 9 déc. 14h00"}}, "moved", 0},
		{"moved across a change of time: each side has its zone", modified(timeChange(notifyd.FieldStart, time.Date(2026, 10, 24, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 9, 0, 0, 0, time.UTC)),
			timeChange(notifyd.FieldEnd, time.Date(2026, 10, 24, 9, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 10, 0, 0, 0, time.UTC))), Long, "en", "en",
			[]FieldChange{{Kind: "moved", From: "Saturday 24 October 2026, 10:00 CEST", To: "Monday 26 October 2026, 10:00 CET", Brief: "Monday 26 October 2026 10:00"}}, "moved", 0},
		{"longer: both spans", modified(start, timeChange(notifyd.FieldEnd, utc(8, 10, 0), utc(9, 15, 0))), Long, "en", "en",
			[]FieldChange{{Kind: "moved", From: "Tuesday 8 December 2026, 10:00–11:00 CET", To: "Wednesday 9 December 2026, 14:00–16:00 CET", Brief: "Wednesday 9 December 14:00"}}, "moved", 0},
		{"only the start: the end stayed", modified(timeChange(notifyd.FieldStart, utc(9, 12, 0), utc(9, 13, 0))), Long, "en", "en",
			[]FieldChange{{Kind: "start", From: "Wednesday 9 December 2026, 13:00", To: "14:00 CET", Brief: "Wednesday 9 December 14:00"}}, "start", 0},
		{"only the end", modified(timeChange(notifyd.FieldEnd, utc(9, 15, 0), utc(9, 14, 0))), Long, "en", "en",
			[]FieldChange{{Kind: "end", From: "Wednesday 9 December 2026, 16:00", To: "15:00 CET", Brief: "Wednesday 9 December 15:00"}}, "end", 0},
		{"an all-day event moved: dates", modified(allDay(timeChange(notifyd.FieldStart, day(24), day(25))), allDay(timeChange(notifyd.FieldEnd, day(25), day(26)))), Long, "en", "en",
			[]FieldChange{{Kind: "moved", From: "Thursday 24 December 2026", To: "Friday 25 December 2026", Brief: "Friday 25 December"}}, "moved", 0},
		{"an all-day event's last day", modified(allDay(timeChange(notifyd.FieldEnd, day(25), day(27)))), Short, "fr", "fr",
			[]FieldChange{{Kind: "end", From: "jeu. 24 déc. 2026", To: "sam. 26 déc. 2026", Brief: "sam. 26 déc."}}, "end", 0},
		{"text fields, cleaned", modified(notifyd.FieldChange{Field: "SUMMARY", From: "A\r\nB", To: "C\u202e"},
			notifyd.FieldChange{Field: notifyd.FieldLocation, To: "Room 2"}, notifyd.FieldChange{Field: notifyd.FieldRecurrence},
			notifyd.FieldChange{Field: notifyd.FieldDescription, From: "x"}), Long, "en", "en",
			[]FieldChange{{Kind: "title", From: "A B", To: "C", Brief: "C"}, {Kind: "location", To: "Room 2", Brief: "Room 2"},
				{Kind: "recurrence"}, {Kind: "description", From: "x"}}, "title", 3},
		{"cancelled leads", modified(notifyd.FieldChange{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"}, status("CONFIRMED", "CANCELLED")), Long, "en", "en",
			[]FieldChange{{Kind: "location", From: "Room 1", To: "Room 2", Brief: "Room 2"}, {Kind: "cancelled", From: "confirmed", To: "cancelled", Brief: "cancelled"}}, "cancelled", 1},
		{"no longer cancelled; another status", modified(status("CANCELLED", "CONFIRMED"), status("tentative", "confirmed")), Long, "en", "en",
			[]FieldChange{{Kind: "uncancelled", From: "cancelled", To: "confirmed", Brief: "confirmed"}, {Kind: "status", From: "tentative", To: "confirmed", Brief: "confirmed"}}, "uncancelled", 1},
		{"a task completed: its status says no more", task(modified(status("IN-PROCESS", "COMPLETED"), notifyd.FieldChange{Field: notifyd.FieldCompleted, ToTime: utc(3, 9, 30)})), Long, "en", "en",
			[]FieldChange{{Kind: "completed", To: "Thursday 3 December 2026, 10:30 CET", Brief: "Thursday 3 December 10:30"}}, "completed", 0},
		{"a task completed by its status alone", task(modified(status("NEEDS-ACTION", "COMPLETED"))), Long, "en", "en",
			[]FieldChange{{Kind: "completed"}}, "completed", 0},
		{"a task reopened", task(modified(notifyd.FieldChange{Field: notifyd.FieldCompleted, From: "true"})), Long, "en", "en",
			[]FieldChange{{Kind: "uncompleted"}}, "uncompleted", 0},
		{"a task reopened, said as false", task(modified(notifyd.FieldChange{Field: notifyd.FieldCompleted, From: "true", To: "FALSE"})), Long, "en", "en",
			[]FieldChange{{Kind: "uncompleted"}}, "uncompleted", 0},
		{"a task reopened by its status", task(modified(status("COMPLETED", "IN-PROCESS"))), Long, "en", "en",
			[]FieldChange{{Kind: "uncompleted"}}, "uncompleted", 0},
		{"a task's start is its own; its due date added", task(modified(timeChange(notifyd.FieldStart, utc(8, 9, 0), utc(9, 13, 0)),
			timeChange(notifyd.FieldDue, time.Time{}, utc(10, 16, 0)))), Long, "en", "en",
			[]FieldChange{{Kind: "start", From: "Tuesday 8 December 2026, 10:00", To: "Wednesday 9 December 2026, 14:00 CET", Brief: "Wednesday 9 December 14:00"},
				{Kind: "due", To: "Thursday 10 December 2026, 17:00 CET", Brief: "Thursday 10 December 17:00"}}, "start", 1},
		{"a field messages do not know", modified(notifyd.FieldChange{Field: "x-priority", From: "1", To: "2"},
			notifyd.FieldChange{Field: "x-when", ToTime: utc(9, 13, 0)}, notifyd.FieldChange{Field: ""}), Long, "en", "en",
			[]FieldChange{{Kind: "x-priority", Label: "X priority", From: "1", To: "2", Brief: "2"},
				{Kind: "x-when", Label: "X when", To: "Wednesday 9 December 2026, 14:00 CET", Brief: "Wednesday 9 December 14:00"}}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tf := NewTimeFormat(tc.style, tc.lang, tc.tag, paris)
			if tc.tag == "en-us" {
				tf = NewTimeFormat(tc.style, tc.lang, tc.tag, mustZone(t, "America/New_York"))
			}
			v := Cleaner{}.View(tc.n, "s", "/p/", "", tf, tc.lang, tc.tag)
			u := v.Update
			if !reflect.DeepEqual(u.Changes, tc.want) {
				t.Errorf("changes\n got %+v\nwant %+v", u.Changes, tc.want)
			}
			main := ""
			if u.Main != nil {
				main = u.Main.Kind
			}
			if main != tc.wantMain || len(u.Rest) != tc.wantRestLen {
				t.Errorf("main %q, %d others; want %q, %d", main, len(u.Rest), tc.wantMain, tc.wantRestLen)
			}
		})
	}
}

// The rest of an update: what, when, where, who, which occurrence.
func TestUpdateView(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	tf := NewTimeFormat(Long, "en", "en", paris)
	for _, tc := range []struct {
		name string
		n    *notifyd.Notification
		cal  string
		want Update
	}{
		{"an event, one occurrence, by the update's author", &notifyd.Notification{Type: notifyd.TypeEventDeleted, From: notifyd.Person{CommonName: "Sender"},
			Event:  &notifyd.Event{Summary: "Team meeting", Location: "Room 2", Start: utc(9, 13, 0), End: utc(9, 14, 0)},
			Update: &notifyd.Update{RecurrenceID: "20261209T130000Z", By: notifyd.Person{Href: "mailto:fred@example.org"}}}, "Work",
			Update{Component: "event", Action: "deleted", Title: "Team meeting", When: "Wednesday 9 December 2026, 14:00–15:00 CET",
				Location: "Room 2", Occurrence: "Wednesday 9 December 2026, 14:00 CET", By: "fred@example.org"}},
		{"a task: due, start; the sender made it", &notifyd.Notification{Type: notifyd.TypeTodoCreated, From: notifyd.Person{CommonName: "Fred"},
			Event:  &notifyd.Event{Summary: "Report", Start: utc(3, 8, 0), Due: utc(4, 16, 0)},
			Update: &notifyd.Update{Component: "VTODO", RecurrenceID: "20261204T170000", TimeZone: "Europe/Paris"}}, "",
			Update{Component: "todo", Action: "created", Task: true, Title: "Report", When: "Friday 4 December 2026, 17:00 CET",
				Due: "Friday 4 December 2026, 17:00 CET", Start: "Thursday 3 December 2026, 09:00 CET", Occurrence: "Friday 4 December 2026, 17:00 CET", By: "Fred"}},
		{"an all-day task's dates, given as Paris midnights", &notifyd.Notification{Type: notifyd.TypeTodoCreated,
			Event:  &notifyd.Event{Summary: "Rent", AllDay: true, Due: time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)},
			Update: &notifyd.Update{RecurrenceID: "20261204", TimeZone: "Europe/Paris"}}, "",
			Update{Component: "todo", Action: "created", Task: true, Title: "Rent", When: "Friday 4 December 2026", Due: "Friday 4 December 2026",
				Occurrence: "Friday 4 December 2026"}},
		{"no Update: the type says what", &notifyd.Notification{Type: notifyd.TypeEventCreated, Summary: "From the summary"}, "",
			Update{Component: "event", Action: "created", Title: "From the summary"}},
		{"a recurrence id that is not one is not shown", &notifyd.Notification{Type: notifyd.TypeEventCreated,
			Update: &notifyd.Update{RecurrenceID: "20261204T170000Z\r\nX"}}, "", Update{Component: "event", Action: "created"}},
		{"a calendar renamed: its name is the new one", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Event: &notifyd.Event{Summary: "Not this"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Work", To: "Projects"},
				{Field: notifyd.FieldStart, ToTime: utc(1, 0, 0)}}}}, "Fetched",
			Update{Component: "calendar", Action: "modified", Title: "Projects", OldName: "Work",
				Changes: []FieldChange{{Kind: "name", From: "Work", To: "Projects", Brief: "Projects"},
					{Kind: "moved", To: "Tuesday 1 December 2026, 01:00 CET", Brief: "Tuesday 1 December 2026 01:00"}}}},
		{"a calendar deleted: no changes", &notifyd.Notification{Type: notifyd.TypeCalendarDeleted, Calendar: notifyd.Collection{Href: "/cal/fred/Old%20work/"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, To: "x"}}}}, "",
			Update{Component: "calendar", Action: "deleted", Title: "Old work"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Cleaner{}.View(tc.n, "s", "/p/", tc.cal, tf, "en", "en")
			got := *v.Update
			got.Main, got.Rest = nil, nil // TestUpdateChanges checks them
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if v := (Cleaner{}).View(&notifyd.Notification{Type: notifyd.TypeReminder, Update: &notifyd.Update{}}, "", "", "", tf, "en", "en"); v.Update != nil {
		t.Errorf("a reminder's view has an Update: %+v", v.Update)
	}
}

// Shorten, clone and TextSize cover the Update: a 1 MB value is cut like
// any field, an overlong identifier left out, the argument untouched.
func TestShortenUpdate(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	longID := strings.Repeat("a", MaxIDBytes+1)
	n := &notifyd.Notification{Type: notifyd.TypeEventModified, Update: &notifyd.Update{Component: "event", UID: longID, RecurrenceID: "20261201",
		By: notifyd.Person{CommonName: long}, Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: long, To: "short"}, {Field: longID, To: "x"}}}}
	if size := TextSize(n); size != len("event")+2*len(longID)+len("20261201")+2*len(long)+len("summary")+len("short")+1 {
		t.Errorf("TextSize = %d", size)
	}
	orig := clone(n)
	got, cut := Shorten(n, 100)
	if !cut || !reflect.DeepEqual(n, orig) {
		t.Fatalf("cut %v; argument changed: %v", cut, !reflect.DeepEqual(n, orig))
	}
	short := Truncate(long, 100)
	want := &notifyd.Update{Component: "event", RecurrenceID: "20261201", By: notifyd.Person{CommonName: short},
		Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: short, To: "short"}, {To: "x"}}}
	if !reflect.DeepEqual(got.Update, want) {
		t.Errorf("Shorten =\n%+v\nwant\n%+v", got.Update, want)
	}
}

// The calendar object of an update is the event or task as it is now.
func TestUpdateCalendar(t *testing.T) {
	stamp := utc(1, 8, 0)
	event := &notifyd.Event{UID: "event-uid", Summary: "Team meeting", Location: "Room 2", Start: utc(9, 13, 0), End: utc(9, 14, 0)}
	for _, tc := range []struct {
		name  string
		n     *notifyd.Notification
		comp  string
		props map[string][2]string
	}{
		{"an event moved", &notifyd.Notification{Type: notifyd.TypeEventModified, Event: event, Update: &notifyd.Update{UID: "u1", RecurrenceID: "20261209T130000Z"}},
			"VEVENT", map[string][2]string{"UID": {"u1"}, "RECURRENCE-ID": {"20261209T130000Z"}, "DTSTART": {"20261209T130000Z"},
				"DTEND": {"20261209T140000Z"}, "DTSTAMP": {"20261201T080000Z"}, "STATUS": {}}},
		{"an event cancelled", &notifyd.Notification{Type: notifyd.TypeEventModified, Event: event,
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: "STATUS", To: "cancelled"}}}},
			"VEVENT", map[string][2]string{"UID": {"event-uid"}, "STATUS": {"CANCELLED"}}},
		{"an event deleted", &notifyd.Notification{Type: notifyd.TypeEventDeleted, Event: event}, "VEVENT", map[string][2]string{"STATUS": {"CANCELLED"}}},
		{"an all-day task", &notifyd.Notification{Type: notifyd.TypeTodoCreated, Event: &notifyd.Event{UID: "t", AllDay: true, Due: time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)},
			Update: &notifyd.Update{TimeZone: "Europe/Paris"}}, "VTODO", map[string][2]string{"DUE": {"20261204", "DATE"}, "DTSTART": {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := UpdateCalendar(tc.n, stamp)
			if lines == nil {
				t.Fatal("no calendar")
			}
			_, comp := decodeICS(t, FoldICal(lines))
			if comp.Name != tc.comp {
				t.Errorf("%s, want %s", comp.Name, tc.comp)
			}
			for name, want := range tc.props {
				if v, typ := prop(comp, name); v != want[0] || typ != want[1] {
					t.Errorf("%s: %q (VALUE %q), want %q (VALUE %q)", name, v, typ, want[0], want[1])
				}
			}
		})
	}
	for name, n := range map[string]*notifyd.Notification{
		"a calendar":    {Type: notifyd.TypeCalendarModified, Event: event},
		"no event":      {Type: notifyd.TypeEventCreated},
		"no UID":        {Type: notifyd.TypeEventCreated, Event: &notifyd.Event{Start: utc(1, 0, 0)}},
		"no time":       {Type: notifyd.TypeTodoCreated, Event: &notifyd.Event{UID: "t"}},
		"not an update": {Type: notifyd.TypeReminder, Event: event},
	} {
		if lines := UpdateCalendar(n, stamp); lines != nil {
			t.Errorf("%s: %q", name, lines)
		}
	}
}
