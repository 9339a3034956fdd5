package email

import (
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// meeting is an update of "Team meeting" in "Work", moved from Tuesday 8
// December 2026 10:00–11:00 to Wednesday 9 December 14:00–15:00 in Paris
// and to Room 2 by Fred; change adds to it.
func meeting(change func(n *notifyd.Notification)) *notifyd.Notification {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	n := &notifyd.Notification{Type: notifyd.TypeEventModified, DTStamp: at(1, 8),
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Work"},
		Event:    &notifyd.Event{UID: "meeting-1", Summary: "Team meeting", Location: "Room 2", Start: at(9, 13), End: at(9, 14)},
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

// report is a task "Send the report" in "Tasks", due Friday 4 December
// 2026 at 17:00 in Paris, with the given update.
func report(typ notifyd.NotificationType, fields ...notifyd.FieldChange) *notifyd.Notification {
	return &notifyd.Notification{Type: typ, Calendar: notifyd.Collection{DisplayName: "Tasks"},
		Event:  &notifyd.Event{UID: "report-1", Summary: "Send the report", Due: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)},
		Update: &notifyd.Update{UID: "report-1", By: notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"}, Fields: fields}}
}

// What a person reads of a calendar update, in the subject, the text
// part and (escaped as needed) the HTML one, in English and French.
func TestRenderUpdate(t *testing.T) {
	r := newTestRenderer(t)
	status := func(from, to string) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldStatus, From: from, To: to}
	}
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		subject      string
		text         []string // in the text part, and in the HTML one
		textOnly     []string
		not          []string
	}{
		{"moved to another room", "en", meeting(nil),
			"Moved: “Team meeting”, now Wednesday 9 December 2026, 14:00–15:00 CET",
			[]string{"The event “Team meeting” in “Work” was changed by ",
				"Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00 CET", "Location: Room 1 → Room 2"},
			[]string{"was changed by Fred:\n\n  - Moved: Tuesday 8 December 2026, 10:00 → Wednesday 9 December 2026, 14:00 CET\n  - Location: Room 1 → Room 2\n",
				"Now:\n  What:  Team meeting\n  When:  Wednesday 9 December 2026, 14:00–15:00 CET\n  Where: Room 2\n"},
			[]string{"occurrence"}},
		{"moved to another room, in French", "fr", meeting(nil),
			"Déplacé : « Team meeting », désormais mercredi 9 décembre 2026, de 14:00 à 15:00 (CET)",
			[]string{"L’événement « Team meeting » dans « Work » a été modifié par ",
				"Déplacement : mardi 8 décembre 2026 à 10:00 → mercredi 9 décembre 2026 à 14:00 (CET)", "Lieu : Room 1 → Room 2"},
			[]string{"Désormais :\n  Quoi :     Team meeting\n  Quand :    mercredi 9 décembre 2026, de 14:00 à 15:00 (CET)\n"}, nil},
		{"in New York, US English", "en-US", meeting(nil),
			"Moved: “Team meeting”, now Wednesday, December 9, 2026, 8:00 AM–9:00 AM EST",
			[]string{"Moved: Tuesday, December 8, 2026, 4:00 AM → Wednesday, December 9, 2026, 8:00 AM EST"}, nil, nil},
		{"cancelled, one occurrence", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields, n.Update.RecurrenceID = []notifyd.FieldChange{status("CONFIRMED", "CANCELLED")}, "20261209T130000Z"
		}), "Cancelled: “Team meeting”, Wednesday 9 December 2026, 14:00–15:00 CET",
			[]string{"Cancelled", "This concerns only the occurrence of Wednesday 9 December 2026, 14:00 CET."}, nil, nil},
		{"cancelled, in French", "fr", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{status("CONFIRMED", "CANCELLED")}
		}),
			"Annulé : « Team meeting », mercredi 9 décembre 2026, de 14:00 à 15:00 (CET)", []string{"Annulation"}, nil, nil},
		{"back on", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{status("CANCELLED", "CONFIRMED")}
		}),
			"Back on: “Team meeting”, Wednesday 9 December 2026, 14:00–15:00 CET", []string{"No longer cancelled (now confirmed)"}, nil, nil},
		{"retitled, by someone unknown", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields, n.Update.By = []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Weekly sync", To: "Team meeting"}}, notifyd.Person{}
		}), "Renamed: “Weekly sync” → “Team meeting”", []string{"Title: Weekly sync → Team meeting"},
			[]string{"The event “Team meeting” in “Work” was changed:\n"}, []string{" by "}},
		{"recurrence and description: the subject lists them", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldRecurrence, From: "every week", To: "every two weeks"}, {Field: notifyd.FieldDescription, To: "Agenda"}}
		}), "Changed: “Team meeting” (recurrence, description)", []string{"Recurrence changed: every week → every two weeks", "Description changed"}, nil, nil},
		{"recurrence and description, in French", "fr", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldRecurrence}, {Field: notifyd.FieldDescription}}
		}), "Modifié : « Team meeting » (répétition, description)", []string{"Répétition modifiée", "Description supprimée"}, nil, nil},
		{"an all-day event moved: dates", "en", meeting(func(n *notifyd.Notification) {
			day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
			n.Event = &notifyd.Event{Summary: "Christmas fair", AllDay: true, Start: day(25), End: day(27)}
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldStart, FromTime: day(24), ToTime: day(25), AllDay: true},
				{Field: notifyd.FieldEnd, FromTime: day(26), ToTime: day(27), AllDay: true}}
		}), "Moved: “Christmas fair”, now Friday 25 December 2026 – Saturday 26 December 2026",
			[]string{"Moved: Thursday 24 December 2026 – Friday 25 December 2026 → Friday 25 December 2026 – Saturday 26 December 2026"}, nil, []string{"CET"}},
		{"moved to another calendar", "en", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldCalendar, From: "Work", To: "Team"}}
		}), "Changed: “Team meeting” (calendar)", []string{"Calendar: Work → Team"}, nil, nil},
		{"moved to another calendar, in French", "fr", meeting(func(n *notifyd.Notification) {
			n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldCalendar, From: "Travail", To: "Équipe"}}
		}), "Modifié : « Team meeting » (calendrier)", []string{"Calendrier : Travail → Équipe"}, nil, nil},
		{"a task completed", "en", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true"},
			status("IN-PROCESS", "COMPLETED")), "Completed: “Send the report”",
			[]string{"The task “Send the report” in “Tasks” was changed by ", "Marked as completed"},
			[]string{"  Due:   Friday 4 December 2026, 17:00 CET\n"}, []string{"Status"}},
		{"a task completed, in French", "fr", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldCompleted, To: "true"}),
			"Terminée : « Send the report »", []string{"La tâche « Send the report » dans « Tasks » a été modifiée par ", "Marquée comme terminée"}, nil, nil},
		{"a task reopened", "en", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldCompleted, From: "true"}),
			"Reopened: “Send the report”", []string{"Marked as not completed"}, nil, nil},
		{"a task's due date moved", "en", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldDue,
			FromTime: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}),
			"New due date: “Send the report”, now due Friday 4 December 2026, 17:00 CET",
			[]string{"Due: Friday 4 December 2026, 09:00 → 17:00 CET"}, nil, nil},
		{"a task's due date moved, in French", "fr", report(notifyd.TypeTodoModified, notifyd.FieldChange{Field: notifyd.FieldDue,
			FromTime: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}),
			"Nouvelle échéance : « Send the report », désormais vendredi 4 décembre 2026 à 17:00 (CET)",
			[]string{"Échéance : jeudi 3 décembre 2026 à 17:00 → vendredi 4 décembre 2026 à 17:00 (CET)"}, nil, nil},
		{"an event created", "en", meeting(func(n *notifyd.Notification) { n.Type, n.Update.Action = notifyd.TypeEventCreated, "created" }),
			"New event: “Team meeting”, Wednesday 9 December 2026, 14:00–15:00 CET",
			[]string{"A new event was added to the calendar “Work” by Fred."},
			[]string{"  What:  Team meeting\n  When:  Wednesday 9 December 2026, 14:00–15:00 CET\n  Where: Room 2\n"}, []string{"Moved", "Room 1"}},
		{"an event created, in French", "fr", meeting(func(n *notifyd.Notification) { n.Type, n.Update.Action = notifyd.TypeEventCreated, "created" }),
			"Nouvel événement : « Team meeting », mercredi 9 décembre 2026, de 14:00 à 15:00 (CET)",
			[]string{"Un nouvel événement a été ajouté au calendrier « Work » par Fred."}, nil, nil},
		{"an event deleted", "en", meeting(func(n *notifyd.Notification) { n.Type, n.Update.Action = notifyd.TypeEventDeleted, "deleted" }),
			"Deleted: “Team meeting”, Wednesday 9 December 2026, 14:00–15:00 CET",
			[]string{"The event “Team meeting” was deleted from the calendar “Work” by Fred."}, nil, nil},
		{"a task created", "en", report(notifyd.TypeTodoCreated), "New task: “Send the report”, due Friday 4 December 2026, 17:00 CET",
			[]string{"A new task was added to the calendar “Tasks” by Wilma."}, nil, nil},
		{"a task deleted, in French", "fr", report(notifyd.TypeTodoDeleted), "Tâche supprimée : « Send the report »",
			[]string{"La tâche « Send the report » a été supprimée du calendrier « Tasks » par Wilma."}, nil, nil},
		{"a calendar created", "en", &notifyd.Notification{Type: notifyd.TypeCalendarCreated, Calendar: notifyd.Collection{DisplayName: "Projects"},
			Update: &notifyd.Update{Component: "calendar", Action: "created", By: notifyd.Person{CommonName: "Fred"}}},
			"New calendar: “Projects”", []string{"A new calendar, “Projects”, was created by Fred."}, nil, nil},
		{"a calendar renamed", "en", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Calendar: notifyd.Collection{DisplayName: "Projects"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Work", To: "Projects"}}}},
			"Calendar renamed: “Work” → “Projects”", []string{"The calendar “Projects” was changed:", "Name: Work → Projects"}, nil, []string{"Now"}},
		{"a calendar's time zone", "en", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Calendar: notifyd.Collection{DisplayName: "Projects"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldTimeZone, From: "Europe/Paris", To: "America/New_York"}}}},
			"Calendar changed: “Projects” (time zone)", []string{"Time zone: Europe/Paris → America/New_York"}, nil, nil},
		{"a calendar renamed, in French", "fr", &notifyd.Notification{Type: notifyd.TypeCalendarModified, Calendar: notifyd.Collection{DisplayName: "Projets"},
			Update: &notifyd.Update{Fields: []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Travail", To: "Projets"}}}},
			"Calendrier renommé : « Travail » → « Projets »", []string{"Nom : Travail → Projets"}, nil, nil},
		{"a calendar deleted", "fr", &notifyd.Notification{Type: notifyd.TypeCalendarDeleted, Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Projects/"}},
			"Calendrier supprimé : « Projects »", []string{"Le calendrier « Projects » a été supprimé."}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input(tc.n)
			in.Locale = tc.locale
			if tc.locale == "en-US" {
				in.TimeZone = newYork
			}
			m := render(t, r, in)
			if m.Subject != tc.subject {
				t.Errorf("subject\n got %q\nwant %q", m.Subject, tc.subject)
			}
			contains(t, "text", m.Text, tc.text...)
			contains(t, "text", m.Text, tc.textOnly...)
			contains(t, "HTML", m.HTML, tc.text...)
			lacks(t, "text", m.Text, tc.not...)
			contains(t, "text", m.Text, in.UnsubscribeURL)
			if len(m.Attachments) != 0 {
				t.Errorf("%d attachments", len(m.Attachments))
			}
		})
	}
}

// Hostile text in an update is escaped in the HTML part and stays on one
// line in the subject, which can carry no header.
func TestRenderUpdateHostile(t *testing.T) {
	r := newTestRenderer(t)
	n := meeting(func(n *notifyd.Notification) {
		n.Event.Summary = "Team\r\nBcc: victim@example.net <script>alert(1)</script>"
		n.Update.By = notifyd.Person{CommonName: `<img src="https://evil.example/p.png">`}
		n.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Old\u2028X-Evil: 1\u202e", To: "<b>new</b>"},
			{Field: notifyd.FieldLocation, From: `"><a href="https://evil.example">`, To: "Room & Co"},
			{Field: "<i>x-field</i>", To: "<u>v</u>"}}
	})
	for _, locale := range []string{"en", "fr"} {
		in := input(n)
		in.Locale = locale
		m := render(t, r, in)
		if strings.ContainsAny(m.Subject, "\r\n\u2028\u202e") {
			t.Errorf("%s: subject %q holds a line break or bidi override", locale, m.Subject)
		}
		contains(t, locale+" subject", m.Subject, "Old X-Evil: 1")
		lacks(t, locale+" HTML", m.HTML, "<script", "<img", "<b>new", `<a href="https://evil`, "<i>", "<u>")
		contains(t, locale+" HTML", m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=&#34;https://evil.example/p.png&#34;&gt;",
			"&lt;b&gt;new&lt;/b&gt;", "Room &amp; Co", "&lt;u&gt;v&lt;/u&gt;")
		if c := strings.Count(m.HTML, "<a "); c != 1 {
			t.Errorf("%s: %d links, want 1 (unsubscribe)", locale, c)
		}
		contains(t, locale+" text", m.Text, "Team Bcc: victim@example.net <script>alert(1)</script>", "<b>new</b>")
	}
}
