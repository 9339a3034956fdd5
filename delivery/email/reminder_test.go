package email

import (
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/message"
)

// budget is a reminder of an instance of a recurring event, 09:00–10:00
// in Paris, ringing 15 minutes before.
func budget() *notifyd.Notification {
	return &notifyd.Notification{
		Type:     notifyd.TypeReminder,
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Work/", DisplayName: "Work"},
		Event: &notifyd.Event{Href: "/dav/calendars/user/wilma/Work/budget.ics", UID: "budget-1", Summary: "Budget review",
			Location: "Room 4", Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{Calendar: "/dav/calendars/user/wilma/Work/", Object: "/dav/calendars/user/wilma/Work/budget.ics",
			UID: "budget-1", RecurrenceID: "20261201T080000Z", AlarmID: "alarm-1", Component: "event", Action: "DISPLAY",
			Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC), TimeZone: "Europe/Paris"},
	}
}

// sendReport is a reminder of a task with only a due time, 17:00 in Paris.
func sendReport() *notifyd.Notification {
	return &notifyd.Notification{
		Type:     notifyd.TypeReminder,
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Tasks/", DisplayName: "Tasks"},
		Event:    &notifyd.Event{Href: "/dav/calendars/user/wilma/Tasks/report.ics", UID: "report-1", Summary: "Send the report", End: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{UID: "report-1", AlarmID: "alarm-2", Component: "task", Action: "DISPLAY",
			Due: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), Trigger: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)},
	}
}

// fair is a reminder of an all-day event on 24 December, the day before.
func fair() *notifyd.Notification {
	return &notifyd.Notification{
		Type: notifyd.TypeReminder,
		Event: &notifyd.Event{UID: "fair", Summary: "Christmas fair", AllDay: true,
			Start: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{UID: "fair", Component: "event", Action: "DISPLAY", Trigger: time.Date(2026, 12, 23, 8, 0, 0, 0, time.UTC)},
	}
}

// with returns n changed by f.
func with(n *notifyd.Notification, f func(n *notifyd.Notification)) *notifyd.Notification {
	f(n)
	return n
}

// TestRenderReminder checks what a person reads of a reminder, in the
// text and the HTML part, in English and French.
func TestRenderReminder(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range []struct {
		name, locale string
		n            *notifyd.Notification
		subject      string
		text         []string // in the text part, and (escaped as needed) the HTML one
		textOnly     []string
		not          []string
	}{
		{"an event today", "en", budget(), "Reminder: Budget review at 09:00",
			[]string{"Reminder: “Budget review” in “Work”.", "Tuesday 1 December 2026, 09:00–10:00 CET", "Room 4"},
			[]string{"  What:  Budget review\n  When:  Tuesday 1 December 2026, 09:00–10:00 CET\n  Where: Room 4\n"},
			[]string{"late", "snoozed", "Note", "Description"}},
		{"an event today, in French", "fr-FR", budget(), "Rappel : Budget review à 09:00",
			[]string{"Rappel : « Budget review » dans « Work ».", "mardi 1er décembre 2026, de 09:00 à 10:00 (CET)", "Room 4"},
			[]string{"  Quand : mardi 1er décembre 2026, de 09:00 à 10:00 (CET)\n"}, []string{"retard", "reporté"}},
		{"an event today, US English", "en-US", budget(), "Reminder: Budget review at 9:00 AM", nil, nil, nil},
		{"the day before", "en", with(budget(), func(n *notifyd.Notification) { n.Reminder.Trigger = n.Reminder.Trigger.AddDate(0, 0, -1) }),
			"Reminder: Budget review tomorrow at 09:00", nil, nil, nil},
		{"the day before, in French", "fr", with(budget(), func(n *notifyd.Notification) { n.Reminder.Trigger = n.Reminder.Trigger.AddDate(0, 0, -1) }),
			"Rappel : Budget review demain à 09:00", nil, nil, nil},
		{"a week before", "en", with(budget(), func(n *notifyd.Notification) { n.Reminder.Trigger = n.Reminder.Trigger.AddDate(0, 0, -7) }),
			"Reminder: Budget review on Tuesday 1 December 2026 at 09:00", nil, nil, nil},
		{"a week before, in French", "fr", with(budget(), func(n *notifyd.Notification) { n.Reminder.Trigger = n.Reminder.Trigger.AddDate(0, 0, -7) }),
			"Rappel : Budget review le mardi 1er décembre 2026 à 09:00", nil, nil, nil},
		{"an all-day event", "en", fair(), "Reminder: Christmas fair tomorrow",
			[]string{"Thursday 24 December 2026 (all day)"}, nil, []string{"CET"}},
		{"an all-day event whose dates are Paris midnights", "en", with(fair(), func(n *notifyd.Notification) {
			n.Event.Start, n.Event.End = n.Event.Start.Add(-time.Hour), n.Event.End.Add(-time.Hour)
			n.Reminder.TimeZone = "Europe/Paris"
		}), "Reminder: Christmas fair tomorrow", []string{"Thursday 24 December 2026 (all day)"}, nil, []string{"23 December"}},
		{"an all-day event, in French", "fr", fair(), "Rappel : Christmas fair demain",
			[]string{"jeudi 24 décembre 2026 (toute la journée)"}, nil, nil},
		{"a task with only a due time", "en", sendReport(), "Reminder: Send the report, due at 17:00",
			[]string{"Reminder: “Send the report” in “Tasks”.", "Tuesday 1 December 2026, 17:00 CET"},
			[]string{"  What:  Send the report\n  Due:   Tuesday 1 December 2026, 17:00 CET\n"}, []string{"When", "Start"}},
		{"a task with only a due time, in French", "fr", sendReport(), "Rappel : Send the report, échéance à 17:00",
			[]string{"mardi 1er décembre 2026 à 17:00 (CET)"}, []string{"  Échéance : mardi 1er décembre 2026 à 17:00 (CET)\n"}, []string{"Quand"}},
		{"late after an outage", "en", with(budget(), func(n *notifyd.Notification) { n.Reminder.LateSeconds = 12*60 + 10 }),
			"Reminder: Budget review at 09:00",
			[]string{"This reminder is 12 minutes late: it was set for 08:45 CET."}, nil, nil},
		{"late after an outage, in French", "fr", with(budget(), func(n *notifyd.Notification) { n.Reminder.LateSeconds = 60 }),
			"Rappel : Budget review à 09:00",
			[]string{"Ce rappel arrive avec 1 minute de retard : il était prévu pour 08:45 CET."}, nil, nil},
		{"snoozed", "en", with(budget(), func(n *notifyd.Notification) { n.Reminder.Snooze = true }),
			"Reminder (snoozed): Budget review at 09:00", []string{"You snoozed this reminder; here it is again."}, nil, nil},
		{"snoozed, in French", "fr", with(budget(), func(n *notifyd.Notification) { n.Reminder.Snooze = true }),
			"Rappel (reporté) : Budget review à 09:00", []string{"Vous aviez reporté ce rappel ; le revoici."}, nil, nil},
		{"the alarm's text and the description", "en", with(budget(), func(n *notifyd.Notification) {
			n.Reminder.Text, n.Reminder.Description = "Bring the Q4 figures", "Agenda:\n1. Figures\n\n\n2. Plans"
		}), "Reminder: Budget review at 09:00", []string{"Bring the Q4 figures", "Agenda:", "1. Figures", "2. Plans"},
			[]string{"Note: Bring the Q4 figures\n", "Description:\n  Agenda:\n  1. Figures\n\n  2. Plans\n"}, nil},
		{"an alarm text that repeats the summary is not shown", "en", with(budget(), func(n *notifyd.Notification) { n.Reminder.Text = "Budget review" }),
			"Reminder: Budget review at 09:00", nil, nil, []string{"Note"}},
		{"no summary", "en", with(budget(), func(n *notifyd.Notification) { n.Event.Summary = "" }),
			"Reminder: Untitled event at 09:00", []string{"Reminder: “Untitled event” in “Work”."}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input(tc.n)
			in.Locale = tc.locale
			m := render(t, r, in)
			if m.Subject != tc.subject {
				t.Errorf("subject\n got %q\nwant %q", m.Subject, tc.subject)
			}
			contains(t, "text", m.Text, tc.text...)
			contains(t, "text", m.Text, tc.textOnly...)
			contains(t, "HTML", m.HTML, tc.text...)
			lacks(t, "text", m.Text, tc.not...)
			contains(t, "text", m.Text, in.UnsubscribeURL)
			if len(m.Attachments) != 1 {
				t.Fatalf("%d attachments, want the .ics", len(m.Attachments))
			}
		})
	}
}

// A reminder from a calendar server's notification collection (no
// notifyd.Reminder) reads as it did.
func TestRenderReminderWithoutAlarm(t *testing.T) {
	r := newTestRenderer(t)
	n := budget()
	n.Reminder = nil
	m := render(t, r, input(n))
	if want := "Reminder: “Budget review”, Tuesday 1 December 2026, 09:00–10:00 CET"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	contains(t, "text", m.Text, "A reminder of “Budget review” in “Work”:")
	if len(m.Attachments) != 0 {
		t.Errorf("attachments %v", m.Attachments)
	}
}

// parseICS reads an attachment back with go-ical: its one component.
func parseICS(t *testing.T, data []byte) (method string, comp *ical.Component) {
	t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(string(data))).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(cal.Children) != 1 {
		t.Fatalf("%d components", len(cal.Children))
	}
	if p := cal.Props.Get("METHOD"); p != nil {
		method = p.Value
	}
	return method, cal.Children[0]
}

// icsProps checks the properties of comp: name → value ("" for absent).
func icsProps(t *testing.T, comp *ical.Component, want map[string]string) {
	t.Helper()
	for name, v := range want {
		got := ""
		if p := comp.Props.Get(name); p != nil {
			got = p.Value
			if typ := p.Params.Get(ical.ParamValue); typ != "" {
				got += " (" + typ + ")"
			}
		}
		if got != v {
			t.Errorf("%s %s: %q, want %q", comp.Name, name, got, v)
		}
	}
}

// The .ics attachment is the instance: it travels as an attachment a mail
// client reads back, and go-ical parses it.
func TestReminderAttachment(t *testing.T) {
	r := newTestRenderer(t)
	sender, err := NewSender(config.SMTP{Host: "smtp.example.org", From: "notifyd@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		n     *notifyd.Notification
		comp  string
		props map[string]string
	}{
		{"an event", with(budget(), func(n *notifyd.Notification) { n.Reminder.Description = "Agenda:\n1. Figures" }), "VEVENT", map[string]string{
			"UID": "budget-1", "RECURRENCE-ID": "20261201T080000Z", "DTSTART": "20261201T080000Z", "DTEND": "20261201T090000Z",
			"DTSTAMP": "20261201T074500Z", "SUMMARY": "Budget review", "LOCATION": "Room 4", "DESCRIPTION": `Agenda:\n1. Figures`, "DUE": ""}},
		{"an all-day event", fair(), "VEVENT", map[string]string{
			"UID": "fair", "RECURRENCE-ID": "", "DTSTART": "20261224 (DATE)", "DTEND": "20261225 (DATE)"}},
		{"a task", sendReport(), "VTODO", map[string]string{
			"UID": "report-1", "DUE": "20261201T160000Z", "DTSTART": "", "DTEND": "", "SUMMARY": "Send the report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, r, input(tc.n))
			if len(m.Attachments) != 1 {
				t.Fatalf("%d attachments", len(m.Attachments))
			}
			parts := checkMIME(t, sender, m)
			p := parts[0]
			if p.mediaType != "text/calendar" || p.params["method"] != "PUBLISH" || p.params["charset"] != "utf-8" ||
				p.header.Get("Content-Transfer-Encoding") != "base64" || p.disposition != `attachment; filename="reminder.ics"` {
				t.Errorf("part %s %v, %s", p.mediaType, p.params, p.disposition)
			}
			method, comp := parseICS(t, []byte(p.body))
			if method != "PUBLISH" || comp.Name != tc.comp {
				t.Errorf("METHOD %q, %s; want PUBLISH, %s", method, comp.Name, tc.comp)
			}
			icsProps(t, comp, tc.props)
		})
	}
	t.Run("no start, no attachment", func(t *testing.T) {
		n := budget()
		n.Event.Start, n.Event.End = time.Time{}, time.Time{}
		if m := render(t, r, input(n)); len(m.Attachments) != 0 {
			t.Errorf("attachments %v", m.Attachments)
		}
	})
}

// Hostile long fields: the message stays within its limits, says it was
// shortened, and still carries an .ics that parses, with the instance's
// identity and times.
func TestRenderReminderHostile(t *testing.T) {
	r := newTestRenderer(t)
	sender, err := NewSender(config.SMTP{Host: "smtp.example.org", From: "notifyd@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, locale := range []string{"en", "fr"} {
		n := budget()
		n.Event.Summary = hugeText(1<<19) + "\r\nEND:VEVENT"
		n.Event.Location = hugeText(1 << 18)
		n.Reminder.Text = hugeText(1 << 18)
		n.Reminder.Description = strings.Repeat("<b>line</b>\n", 1<<15)
		n.Reminder.AlarmID = strings.Repeat("x", message.MaxIDBytes+1)
		in := input(n)
		in.Locale = locale
		m := render(t, r, in)
		if len(m.Text) > MaxTextBytes || len(m.HTML) > MaxHTMLBytes || len(m.Subject) > 4*maxSubjectRunes {
			t.Errorf("%s: text %d, HTML %d bytes, subject %d", locale, len(m.Text), len(m.HTML), len(m.Subject))
		}
		contains(t, locale+" text", m.Text, map[string]string{"en": "(Shortened: ", "fr": "(Message raccourci : "}[locale])
		lacks(t, locale+" HTML", m.HTML, "<b>line")
		if len(m.Attachments) != 1 || len(m.Attachments[0].Data) > MaxAttachmentBytes {
			t.Fatalf("%s: attachments %d", locale, len(m.Attachments))
		}
		checkMIME(t, sender, m)
		_, comp := parseICS(t, m.Attachments[0].Data)
		icsProps(t, comp, map[string]string{"UID": "budget-1", "RECURRENCE-ID": "20261201T080000Z", "DTSTART": "20261201T080000Z"})
		if s := comp.Props.Get("SUMMARY").Value; !strings.HasSuffix(s, "…") || len(s) > 4*message.MaxFieldRunes {
			t.Errorf("%s: summary of %d bytes, ending %q", locale, len(s), s[len(s)-20:])
		}
	}
}

// A message's attachments are checked like its headers.
func TestMessageAttachmentsChecked(t *testing.T) {
	ok := Attachment{Name: "reminder.ics", ContentType: icsType, Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}
	for name, a := range map[string]Attachment{
		"a path":               {Name: "../etc/passwd", ContentType: icsType},
		"a quote":              {Name: `a".ics`, ContentType: icsType},
		"a hidden file":        {Name: ".ics", ContentType: icsType},
		"no name":              {ContentType: icsType},
		"a header in the type": {Name: "a.ics", ContentType: "text/calendar\r\nBcc: x@example.org"},
		"not a type":           {Name: "a.ics", ContentType: "text/calendar; method"},
		"too large":            {Name: "a.ics", ContentType: icsType, Data: make([]byte, MaxAttachmentBytes+1)},
	} {
		m := testMessage("wilma@example.org", "Hi")
		m.Attachments = []Attachment{ok, a}
		if err := m.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m := testMessage("wilma@example.org", "Hi")
	m.Attachments = []Attachment{ok}
	if err := m.check(); err != nil {
		t.Error(err)
	}
}
