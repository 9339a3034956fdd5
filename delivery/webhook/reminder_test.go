package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// reminderNotification is a reminder as the engine makes it.
func reminderNotification() *notifyd.Notification {
	return &notifyd.Notification{
		Type: notifyd.TypeReminder, Element: "VALARM", UID: "budget-1", Summary: "Budget review",
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/wilma/Work/", DisplayName: "Work"},
		Event: &notifyd.Event{Href: "/dav/calendars/user/wilma/Work/budget.ics", UID: "budget-1", Summary: "Budget review", Location: "Room 4",
			Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{Calendar: "/dav/calendars/user/wilma/Work/", Object: "/dav/calendars/user/wilma/Work/budget.ics",
			UID: "budget-1", RecurrenceID: "20261201T080000Z", AlarmID: "alarm-1", Component: "event", Action: "DISPLAY",
			Text: "Bring the Q4 figures", Description: "Agenda", Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC),
			TimeZone: "Europe/Paris", LateSeconds: 720, Snooze: true},
	}
}

// A reminder's body is a "notification.reminder" event whose
// notification carries the Sun ENS alarm fields, timestamped when the
// alarm rang, as the package documentation shows.
func TestRenderReminder(t *testing.T) {
	req := testRequest("https://hooks.example.org/")
	req.Notification = reminderNotification()
	attempt := time.Date(2026, 12, 1, 7, 57, 0, 0, time.UTC)
	body, err := Render(req, attempt)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Notification struct {
				Reminder map[string]any `json:"reminder"`
				Event    map[string]any `json:"event"`
			} `json:"notification"`
			Truncated *bool `json:"truncated"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "notification.reminder" || !p.Timestamp.Equal(req.Notification.Reminder.Trigger) || p.Data.Truncated != nil {
		t.Errorf("type %q, timestamp %v, truncated %v", p.Type, p.Timestamp, p.Data.Truncated)
	}
	want := map[string]any{
		"calendar": "/dav/calendars/user/wilma/Work/", "object": "/dav/calendars/user/wilma/Work/budget.ics",
		"uid": "budget-1", "recurrence_id": "20261201T080000Z", "alarm_id": "alarm-1", "component": "event", "action": "DISPLAY",
		"text": "Bring the Q4 figures", "description": "Agenda", "trigger": "2026-12-01T07:45:00Z",
		"time_zone": "Europe/Paris", "late_seconds": 720.0, "snooze": true,
	}
	if !reflect.DeepEqual(p.Data.Notification.Reminder, want) {
		t.Errorf("reminder\n%v\nwant\n%v", p.Data.Notification.Reminder, want)
	}
	if e := p.Data.Notification.Event; e["summary"] != "Budget review" || e["start"] != "2026-12-01T08:00:00Z" || e["location"] != "Room 4" {
		t.Errorf("event %v", e)
	}

	// A task's due time; no recurrence id, not late: left out.
	n := reminderNotification()
	n.Reminder.Component, n.Reminder.Due, n.Reminder.RecurrenceID, n.Reminder.LateSeconds = "task", n.Event.End, "", 0
	req.Notification = n
	if body, err = Render(req, attempt); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"component":"task"`, `"due":"2026-12-01T09:00:00Z"`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("body lacks %s: %s", w, body)
		}
	}
	for _, w := range []string{`"recurrence_id"`, `"late_seconds"`} {
		if strings.Contains(string(body), w) {
			t.Errorf("body has %s: %s", w, body)
		}
	}
}

// A reminder too large for the body keeps what says which alarm rang:
// its texts are cut like every field, and when even its identifiers do
// not fit, those of a reasonable size and its times stay.
func TestRenderReminderOversized(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	huge := hugeText(1 << 20)
	angles := strings.Repeat("<", message.MaxIDBytes)

	n := reminderNotification()
	n.Reminder.Text, n.Reminder.Description, n.Event.Summary = huge, huge, huge
	req := testRequest("https://hooks.example.org/")
	req.Notification = n
	p := renderPayload(t, req, at)
	r := p.Data.Notification.Reminder
	if r == nil || r.UID != "budget-1" || r.RecurrenceID != "20261201T080000Z" || r.AlarmID != "alarm-1" || !r.Trigger.Equal(n.Reminder.Trigger) {
		t.Fatalf("reminder %+v", r)
	}
	faithful(t, "reminder text", r.Text, huge)
	faithful(t, "reminder description", r.Description, huge)
	if r.Text == "" || len(r.Text) > 4*message.MaxFieldRunes {
		t.Errorf("text of %d bytes", len(r.Text))
	}

	// Identifiers of 4096 "<" (24 KiB each in JSON): the long ones go,
	// the UID, recurrence id, alarm id and times stay.
	n = reminderNotification()
	n.Reminder.Calendar, n.Reminder.Object, n.Reminder.TimeZone = angles, angles, angles
	n.Calendar.Href, n.Event.Href, n.Element = angles, angles, angles
	n.UID, n.Event.UID = angles, angles
	req.Notification = n
	p = renderPayload(t, req, at)
	r = p.Data.Notification.Reminder
	want := *reminderNotification().Reminder
	want.Calendar, want.Object, want.TimeZone, want.Text, want.Description = "", "", "", "", ""
	if r == nil || *r != want {
		t.Errorf("reminder\n%+v\nwant\n%+v", r, want)
	}
}

// renderPayload renders req, checks the body is within the limit and
// marked truncated, and decodes it.
func renderPayload(t *testing.T, req *delivery.Request, at time.Time) Payload {
	t.Helper()
	body, err := Render(req, at)
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxPayloadBytes || !p.Data.Truncated || p.Type != "notification.reminder" {
		t.Fatalf("body of %d bytes, truncated %v, type %q", len(body), p.Data.Truncated, p.Type)
	}
	return p
}
