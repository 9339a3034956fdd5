package webhook

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// updateNotification is an event modification as the engine makes it:
// "Team meeting" moved a day later and to Room 2 by Fred.
func updateNotification() *notifyd.Notification {
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	return &notifyd.Notification{
		Type: notifyd.TypeEventModified, Element: "VEVENT", UID: "meeting-1", DTStamp: at(1, 8),
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Work"},
		Event: &notifyd.Event{Href: "/dav/calendars/user/fred/Work/meeting.ics", UID: "meeting-1", Summary: "Team meeting",
			Location: "Room 2", Start: at(9, 13), End: at(9, 14)},
		Update: &notifyd.Update{Component: "event", Action: "modified", Object: "/dav/calendars/user/fred/Work/meeting.ics",
			UID: "meeting-1", RecurrenceID: "20261208T090000Z", By: notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
			TimeZone: "Europe/Paris", Fields: []notifyd.FieldChange{
				{Field: notifyd.FieldStart, FromTime: at(8, 9), ToTime: at(9, 13)},
				{Field: notifyd.FieldLocation, From: "Room 1", To: "Room 2"},
			}},
	}
}

// An update's body is a "notification.event-modified" event whose
// notification carries the event as it is now and the update, as the
// package documentation shows.
func TestRenderUpdate(t *testing.T) {
	req := testRequest("https://hooks.example.org/")
	req.Notification = updateNotification()
	body, err := Render(req, time.Date(2026, 12, 1, 8, 0, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Notification struct {
				Update map[string]any `json:"update"`
				Event  map[string]any `json:"event"`
			} `json:"notification"`
			Truncated *bool `json:"truncated"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "notification.event-modified" || !p.Timestamp.Equal(req.Notification.DTStamp) || p.Data.Truncated != nil {
		t.Errorf("type %q, timestamp %v, truncated %v", p.Type, p.Timestamp, p.Data.Truncated)
	}
	want := map[string]any{
		"component": "event", "action": "modified", "object": "/dav/calendars/user/fred/Work/meeting.ics", "uid": "meeting-1",
		"recurrence_id": "20261208T090000Z", "by": map[string]any{"href": "mailto:fred@example.org", "common_name": "Fred"},
		"time_zone": "Europe/Paris",
		"fields": []any{
			map[string]any{"field": "start", "from_time": "2026-12-08T09:00:00Z", "to_time": "2026-12-09T13:00:00Z"},
			map[string]any{"field": "location", "from": "Room 1", "to": "Room 2"},
		},
	}
	if !reflect.DeepEqual(p.Data.Notification.Update, want) {
		t.Errorf("update\n%v\nwant\n%v", p.Data.Notification.Update, want)
	}
	if e := p.Data.Notification.Event; e["summary"] != "Team meeting" || e["start"] != "2026-12-09T13:00:00Z" || e["location"] != "Room 2" {
		t.Errorf("event %v", e)
	}
}

// An update too large for the body keeps what says what changed: its
// texts are cut like every field, only the changed fields that fit are
// kept, and when even its identifiers do not fit, those of a reasonable
// size and each changed field's name and times stay.
func TestRenderUpdateOversized(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	huge := hugeText(1 << 20)
	angles := strings.Repeat("<", message.MaxIDBytes)
	req := testRequest("https://hooks.example.org/")

	n := updateNotification()
	n.Update.Fields[1].From, n.Update.Fields[1].To, n.Update.By.CommonName = huge, huge, huge
	req.Notification = n
	p := renderTruncated(t, req, at)
	u := p.Data.Notification.Update
	if u == nil || u.UID != "meeting-1" || len(u.Fields) != 2 || !u.Fields[0].ToTime.Equal(n.Update.Fields[0].ToTime) {
		t.Fatalf("update %+v", u)
	}
	faithful(t, "from", u.Fields[1].From, huge)
	faithful(t, "to", u.Fields[1].To, huge)
	faithful(t, "by", u.By.CommonName, huge)
	if u.Fields[1].To == "" || len(u.Fields[1].To) > 4*message.MaxFieldRunes {
		t.Errorf("to of %d bytes", len(u.Fields[1].To))
	}

	// 3000 changed fields of 1000 characters: the first that fit.
	n = updateNotification()
	for i := range 3000 {
		n.Update.Fields = append(n.Update.Fields, notifyd.FieldChange{Field: fmt.Sprintf("x-%d", i), To: strings.Repeat("<", 1000)})
	}
	req.Notification = n
	p = renderTruncated(t, req, at)
	if u := p.Data.Notification.Update; u == nil || len(u.Fields) < 10 || len(u.Fields) >= len(n.Update.Fields) ||
		!reflect.DeepEqual(u.Fields[:2], n.Update.Fields[:2]) || u.Fields[9].Field != "x-7" {
		t.Errorf("update of %d fields", len(u.Fields))
	}

	// Identifiers of 4096 "<" (24 KiB each in JSON): the long ones go;
	// the UID, recurrence id and each field's name and times stay.
	n = updateNotification()
	n.Update.Object, n.Update.TimeZone, n.Calendar.Href, n.Event.Href, n.Element, n.UID, n.Event.UID = angles, angles, angles, angles, angles, angles, angles
	n.Update.Fields[1].To = hugeText(1 << 19)
	req.Notification = n
	p = renderTruncated(t, req, at)
	want := *updateNotification().Update
	want.Object, want.TimeZone, want.By = "", "", notifyd.Person{}
	want.Fields = []notifyd.FieldChange{want.Fields[0], {Field: notifyd.FieldLocation}}
	if u := p.Data.Notification.Update; u == nil || !reflect.DeepEqual(*u, want) {
		t.Errorf("update\n%+v\nwant\n%+v", u, want)
	}
}

// renderTruncated renders req, checks the body is within the limit and
// marked truncated, and decodes it.
func renderTruncated(t *testing.T, req *delivery.Request, at time.Time) Payload {
	t.Helper()
	body, err := Render(req, at)
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxPayloadBytes || !p.Data.Truncated || p.Type != EventType(req.Notification.Type) {
		t.Fatalf("body of %d bytes, truncated %v, type %q", len(body), p.Data.Truncated, p.Type)
	}
	return p
}
