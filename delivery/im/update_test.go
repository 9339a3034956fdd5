package im

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// meeting is an update of "Team meeting" in "Work", moved from Tuesday 8
// December 2026 10:00–11:00 to Wednesday 9 December 14:00–15:00 in Paris
// by Fred; change adds to it.
func meeting(change func(n *notifyd.Notification)) *notifyd.Notification {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	n := &notifyd.Notification{Type: notifyd.TypeEventModified, DTStamp: at(1, 8), Calendar: notifyd.Collection{DisplayName: "Work"},
		Event: &notifyd.Event{UID: "meeting-1", Summary: "Team meeting", Location: "Room 2", Start: at(9, 13), End: at(9, 14)},
		Update: &notifyd.Update{Component: "event", Action: "modified", UID: "meeting-1", By: notifyd.Person{CommonName: "Fred"},
			Fields: []notifyd.FieldChange{
				{Field: notifyd.FieldStart, FromTime: at(8, 9), ToTime: at(9, 13)},
				{Field: notifyd.FieldEnd, FromTime: at(8, 10), ToTime: at(9, 14)},
				{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"},
			}}}
	if change != nil {
		change(n)
	}
	return n
}

// report is a task "Send the report" due Friday 4 December 2026 at 17:00
// in Paris, with the given update.
func report(typ notifyd.NotificationType, fields ...notifyd.FieldChange) *notifyd.Notification {
	return &notifyd.Notification{Type: typ, Calendar: notifyd.Collection{DisplayName: "Tasks"},
		Event:  &notifyd.Event{UID: "report-1", Summary: "Send the report", Due: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)},
		Update: &notifyd.Update{UID: "report-1", Fields: fields}}
}

// The pop-up of a calendar update: what changed, from → to, in the
// recipient's zone and language, and who changed it.
func TestRenderUpdate(t *testing.T) {
	r := newTestRenderer(t)
	status := func(from, to string) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldStatus, From: from, To: to}
	}
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		want         string
	}{
		{"moved to another place", "en", meeting(nil),
			"The event “Team meeting” in “Work” was changed by Fred:\n" +
				"Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00 CET\nLocation: Room 1 → Room 2"},
		{"moved to another place, in French", "fr", meeting(nil),
			"L’événement « Team meeting » dans « Work » a été modifié par Fred :\n" +
				"Déplacement : mardi 8 décembre 2026 à 10:00 → mercredi 9 décembre 2026 à 14:00 (CET)\nLieu : Room 1 → Room 2"},
		{"moved the same day, US English", "en-US", meeting(func(n *notifyd.Notification) {
			n.Update.Fields[0].ToTime, n.Update.Fields[1].ToTime = n.Update.Fields[0].FromTime.Add(2*time.Hour), n.Update.Fields[1].FromTime.Add(2*time.Hour)
			n.Update.Fields = n.Update.Fields[:2]
		}), "The event “Team meeting” in “Work” was changed by Fred:\nMoved: Tuesday, December 8, 2026, 10:00 AM → 12:00 PM CET"},
		{"longer: both times", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields[1].ToTime = n.Update.Fields[1].ToTime.Add(time.Hour)
			n.Update.Fields = n.Update.Fields[:2]
		}), "The event “Team meeting” in “Work” was changed by Fred:\n" +
			"Moved: Tuesday 8 December 2026, 10:00–11:00 CET → Wednesday 9 December 2026, 14:00–16:00 CET"},
		{"retitled, one occurrence", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Weekly sync", To: "Team meeting"}}
			n.Update.RecurrenceID, n.Update.By = "20261209T130000Z", notifyd.Person{}
		}), "The event “Team meeting” in “Work” was changed:\nTitle: Weekly sync → Team meeting\nOnly the occurrence of Wednesday 9 December 2026, 14:00 CET."},
		{"cancelled, then the rest", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = append(n.Update.Fields[2:], status("CONFIRMED", "CANCELLED"))
		}), "The event “Team meeting” in “Work” was changed by Fred:\nCancelled\nLocation: Room 1 → Room 2"},
		{"cancelled, in French", "fr", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{status("CONFIRMED", "CANCELLED")}
		}),
			"L’événement « Team meeting » dans « Work » a été modifié par Fred :\nAnnulation"},
		{"recurrence, status and a place removed", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldRecurrence, From: "every week", To: "every day"},
				status("TENTATIVE", "CONFIRMED"), {Field: notifyd.FieldLocation, From: "Room 1"}, {Field: notifyd.FieldRecurrence}}
		}), "The event “Team meeting” in “Work” was changed by Fred:\nRecurrence changed: every week → every day\n" +
			"Status: tentative → confirmed\nLocation: removed (was Room 1)\nRecurrence changed"},
		{"an all-day event moved, its dates given as Paris midnights", "en", meeting(func(n *notifyd.Notification) {
			midnight := func(d int) time.Time { return time.Date(2026, 12, d-1, 23, 0, 0, 0, time.UTC) }
			n.Event = &notifyd.Event{Summary: "Christmas fair", AllDay: true, Start: midnight(25), End: midnight(26)}
			n.Update.TimeZone = "Europe/Paris"
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldStart, FromTime: midnight(24), ToTime: midnight(25), AllDay: true},
				{Field: notifyd.FieldEnd, FromTime: midnight(25), ToTime: midnight(26), AllDay: true}}
		}), "The event “Christmas fair” in “Work” was changed by Fred:\nMoved: Thursday 24 December 2026 → Friday 25 December 2026"},
		{"a task completed", "en", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true"}),
			"The task “Send the report” in “Tasks” was changed:\nMarked as completed"},
		{"a task completed, in French", "fr", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldCompleted,
			ToTime: time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)}, status("IN-PROCESS", "COMPLETED")),
			"La tâche « Send the report » dans « Tasks » a été modifiée :\nMarquée comme terminée le jeudi 3 décembre 2026 à 10:30 (CET)"},
		{"a task reopened through its status", "en", report(notifyd.TypeTodoModified, status("COMPLETED", "NEEDS-ACTION")),
			"The task “Send the report” in “Tasks” was changed:\nMarked as not completed"},
		{"a task's due date moved", "en", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldDue,
			FromTime: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}),
			"The task “Send the report” in “Tasks” was changed:\nDue: Thursday 3 December 2026, 17:00 → Friday 4 December 2026, 17:00 CET"},
		{"a task's due date added, in French", "fr", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldDue,
			ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}),
			"La tâche « Send the report » dans « Tasks » a été modifiée :\nÉchéance : vendredi 4 décembre 2026 à 17:00 (CET) (nouveau)"},
		{"an event created", "en", meeting(func(n *notifyd.Notification) { n.Type, n.Update.Action = notifyd.TypeEventCreated, "created" }),
			"New event in “Work”: “Team meeting”\nWhen: Wednesday 9 December 2026, 14:00–15:00 CET\nWhere: Room 2\nAdded by Fred."},
		{"an event deleted, in French", "fr", meeting(func(n *notifyd.Notification) { n.Type, n.Update.Action = notifyd.TypeEventDeleted, "deleted" }),
			"Événement supprimé de « Work » : « Team meeting »\nQuand : mercredi 9 décembre 2026, de 14:00 à 15:00 (CET)\nOù : Room 2\nSupprimé par Fred."},
		{"a task created", "en", report(notifyd.TypeTodoCreated), "New task in “Tasks”: “Send the report”\nDue: Friday 4 December 2026, 17:00 CET"},
		{"a calendar renamed", "en", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Calendar: notifyd.Collection{DisplayName: "Projects"},
			Update: &notifyd.Update{By: notifyd.Person{Href: "mailto:fred@example.org"}, Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Work", To: "Projects"}}}},
			"The calendar “Projects” was changed by fred@example.org:\nName: Work → Projects"},
		{"a calendar deleted, in French", "fr", &notifyd.Notification{Type: notifyd.TypeCalendarDeleted, Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Projects/"}},
			"Le calendrier « Projects » a été supprimé."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renderBody(t, r, tc.n, tc.locale)
			if m.Body != tc.want {
				t.Errorf("\n%s\nwant:\n%s", m.Body, tc.want)
			}
		})
	}
}

// A pop-up lists five changes at most, the main one first.
func TestRenderUpdateManyChanges(t *testing.T) {
	r := newTestRenderer(t)
	n := meeting(func(n *notifyd.Notification) {
		for i := 0; i < 6; i++ {
			n.Update.Fields = append([]notifyd.FieldChange{{Field: "x-field-" + string(rune('a'+i)), To: "v"}}, n.Update.Fields...)
		}
	})
	want := "The event “Team meeting” in “Work” was changed by Fred:\n" +
		"Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00 CET\n" +
		"X field f: v (new)\nX field e: v (new)\nX field d: v (new)\nX field c: v (new)\n…and 3 more"
	if m := renderBody(t, r, n, "en"); m.Body != want {
		t.Errorf("\n%s\nwant:\n%s", m.Body, want)
	}
}

// The calendar part is the event or task as it is now; deleted or
// cancelled, it says so; a calendar's update has none.
func TestRenderUpdateCalendar(t *testing.T) {
	r := newTestRenderer(t)
	cancelled := meeting(func(n *notifyd.Notification) {
		n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldStatus, From: "CONFIRMED", To: "CANCELLED"}}
	})
	for _, tc := range []struct {
		name  string
		n     *notifyd.Notification
		comp  string
		props map[string]string
	}{
		{"an event moved", meeting(nil), "VEVENT", map[string]string{"UID": "meeting-1", "DTSTART": "20261209T130000Z",
			"DTEND": "20261209T140000Z", "DTSTAMP": "20261201T080000Z", "LOCATION": "Room 2", "STATUS": ""}},
		{"one occurrence", meeting(func(n *notifyd.Notification) {
			n.Update.RecurrenceID = "20261208T100000"
			n.Update.TimeZone = "Europe/Paris"
		}),
			"VEVENT", map[string]string{"RECURRENCE-ID": "20261208T090000Z"}},
		{"an event cancelled", cancelled, "VEVENT", map[string]string{"STATUS": "CANCELLED"}},
		{"an event deleted", meeting(func(n *notifyd.Notification) { n.Type = notifyd.TypeEventDeleted }), "VEVENT", map[string]string{"STATUS": "CANCELLED"}},
		{"a task", report(notifyd.TypeTodoCreated), "VTODO", map[string]string{"UID": "report-1", "DUE": "20261204T160000Z", "DTSTART": "", "STATUS": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renderBody(t, r, tc.n, "en")
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
	for _, typ := range []notifyd.NotificationType{notifyd.TypeCalendarCreated, notifyd.TypeCalendarModified, notifyd.TypeCalendarDeleted} {
		n := meeting(func(n *notifyd.Notification) { n.Type = typ; n.Update.Component = "calendar" })
		if m := renderBody(t, r, n, "en"); m.Calendar != "" {
			t.Errorf("%s: calendar part %q", typ, m.Calendar)
		}
	}
}

// Hostile text: one line per change, no control characters, the pop-up
// within its size, the stanza well formed.
func TestRenderUpdateHostile(t *testing.T) {
	r := newTestRenderer(t)
	huge := strings.Repeat("<b>&amp;\u202e “x”\r\nSTATUS:CANCELLED ", 1<<14)
	n := meeting(func(n *notifyd.Notification) {
		n.Event.Summary = "Team\nmeeting\x07"
		n.Update.By = notifyd.Person{CommonName: "Fred\r\n<script>"}
		n.Update.Fields = append(n.Update.Fields, notifyd.FieldChange{Field: notifyd.FieldDescription, From: huge, To: huge},
			notifyd.FieldChange{Field: notifyd.FieldLocation, From: "Room 1", To: huge})
	})
	for _, locale := range []string{"en", "fr"} {
		m := renderBody(t, r, n, locale)
		if c := utf8.RuneCountInString(m.Body); c > maxBodyRunes || strings.ContainsAny(m.Body, "\r\x07\u202e") {
			t.Errorf("%s: body of %d characters:\n%.300s", locale, c, m.Body)
		}
		first, _, _ := strings.Cut(m.Body, "\n")
		if !strings.Contains(first, "Team meeting") || (!strings.HasSuffix(first, "by Fred <script>:") && !strings.HasSuffix(first, "par Fred <script> :")) {
			t.Errorf("%s: first line %q", locale, first)
		}
		if len(messageStanza(m, hintNoStore)) > MaxStanzaBytes {
			t.Errorf("%s: stanza of %d bytes", locale, len(messageStanza(m, hintNoStore)))
		}
		if comp := parseCalendar(t, m.Calendar); comp.Props.Get("STATUS") != nil {
			t.Errorf("%s: the location's text set a status", locale)
		}
	}
}
