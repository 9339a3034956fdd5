package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// A scheduling message's body is a "notification.invitation-reply" (…)
// event whose notification carries the iTIP message as "scheduling".
func TestRenderScheduling(t *testing.T) {
	req := testRequest("https://hooks.example.org/")
	req.Notification = &notifyd.Notification{Type: notifyd.TypeInvitationReply, Element: "VCALENDAR;METHOD=REPLY", UID: "meet-1",
		From:  notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"},
		Event: &notifyd.Event{UID: "meet-1", Summary: "Budget meeting", Start: time.Date(2026, 12, 15, 8, 0, 0, 0, time.UTC)},
		Scheduling: &notifyd.Scheduling{Method: "REPLY", Object: "/dav/calendars/user/fred/Inbox/r.ics", Component: "event", UID: "meet-1",
			Organizer: notifyd.Person{Href: "mailto:fred@example.org"}, Attendee: notifyd.Person{Href: "mailto:wilma@example.org", CommonName: "Wilma"},
			PartStat: "accepted", ICalendar: "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n"}}
	body, err := Render(req, time.Date(2026, 12, 1, 8, 0, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Notification struct {
				Scheduling map[string]any `json:"scheduling"`
			} `json:"notification"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	s := p.Data.Notification.Scheduling
	if p.Type != "notification.invitation-reply" || s["method"] != "REPLY" || s["partstat"] != "accepted" ||
		s["attendee"].(map[string]any)["common_name"] != "Wilma" || s["icalendar"] == nil {
		t.Errorf("type %q scheduling %v", p.Type, s)
	}
}
