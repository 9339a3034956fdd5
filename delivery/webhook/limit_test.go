package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/message"
)

// hugeText is about n bytes of words that JSON escaping expands: quotes,
// ampersands, angle brackets, a control character, accented letters and
// emoji.
func hugeText(n int) string {
	const unit = "\"Q\" & <b>é</b> 😀\x01 l'été "
	return strings.Repeat(unit, n/len(unit))
}

// oversized lists notifications whose JSON would be far over
// MaxPayloadBytes.
func oversized() map[string]*notifyd.Notification {
	changes := &notifyd.Notification{Type: notifyd.TypeResourceChange, Element: "{http://calendarserver.org/ns/}resource-change"}
	for i := range 3000 {
		changes.Changes = append(changes.Changes, notifyd.Change{Kind: "created", Href: fmt.Sprintf("/c/%d.ics", i),
			Summary: fmt.Sprintf("Imported <event> number %d", i), By: notifyd.Person{CommonName: "Fred"}})
	}
	fields := map[string]string{}
	for i := range 500 {
		fields[fmt.Sprintf("field%03d", i)] = strings.Repeat("<", 1024)
	}
	return map[string]*notifyd.Notification{
		"1 MB comment": {Type: notifyd.TypeShareInvite, Element: "{http://calendarserver.org/ns/}invite-notification",
			UID: "invite-1", Summary: hugeText(1 << 20), From: notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"}},
		"1 MB event summary and location": {Type: notifyd.TypeReminder,
			Event: &notifyd.Event{Summary: hugeText(1 << 19), Location: hugeText(1 << 19), Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)}},
		"3000 changes":    changes,
		"500 fields of <": {Type: notifyd.TypeOther, Fields: fields},
		"1 MB href":       {Type: notifyd.TypeShareInvite, Calendar: notifyd.Collection{Href: "/" + strings.Repeat("a", 1<<20), DisplayName: "Work"}},
		// Identifiers just short enough to be kept, 24 kB each in JSON.
		"identifiers of <": {Type: notifyd.TypeOther, Element: strings.Repeat("<", message.MaxIDBytes), UID: strings.Repeat("<", message.MaxIDBytes),
			InReplyTo: strings.Repeat("<", message.MaxIDBytes), Status: hugeText(1 << 19)},
	}
}

// TestRenderCapsOversizedNotifications checks that the body stays within
// MaxPayloadBytes, is valid JSON with data.truncated set, and that what it
// keeps of the notification is faithful: each text the original's, or its
// beginning ending with "…".
func TestRenderCapsOversizedNotifications(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for name, n := range oversized() {
		t.Run(name, func(t *testing.T) {
			req := testRequest("https://hooks.example.org/")
			req.Notification = n
			body, err := Render(req, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > MaxPayloadBytes || !json.Valid(body) || !utf8.Valid(body) {
				t.Fatalf("body of %d bytes (limit %d), valid JSON: %v", len(body), MaxPayloadBytes, json.Valid(body))
			}
			var p struct {
				Type string `json:"type"`
				Data struct {
					System       string                `json:"system"`
					Notification *notifyd.Notification `json:"notification"`
					DeliveryID   string                `json:"delivery_id"`
					Truncated    *bool                 `json:"truncated"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != EventType(n.Type) || p.Data.System != "cyrus" || p.Data.DeliveryID != testDeliveryID || p.Data.Truncated == nil || !*p.Data.Truncated {
				t.Fatalf("type %q, system %q, delivery_id %q, truncated %v", p.Type, p.Data.System, p.Data.DeliveryID, p.Data.Truncated)
			}
			got := p.Data.Notification
			if got.Type != n.Type {
				t.Errorf("notification type %q", got.Type)
			}
			if bare := (notifyd.Notification{Type: n.Type}); name == "identifiers of <" && !reflect.DeepEqual(*got, bare) {
				t.Errorf("notification %.200v, want only its type", got)
			}
			faithful(t, "summary", got.Summary, n.Summary)
			faithful(t, "status", got.Status, n.Status)
			faithful(t, "calendar href", got.Calendar.Href, n.Calendar.Href)
			if got.Event != nil {
				faithful(t, "event summary", got.Event.Summary, n.Event.Summary)
				faithful(t, "event location", got.Event.Location, n.Event.Location)
			}
			if len(got.Changes) > len(n.Changes) {
				t.Errorf("%d changes, from %d", len(got.Changes), len(n.Changes))
			}
			for i, ch := range got.Changes {
				faithful(t, "change summary", ch.Summary, n.Changes[i].Summary)
				if ch.Href != n.Changes[i].Href || ch.Kind != n.Changes[i].Kind {
					t.Errorf("change %d: %+v, from %+v", i, ch, n.Changes[i])
				}
			}
			for name, v := range got.Fields {
				faithful(t, "field "+name, v, n.Fields[name])
			}
		})
	}
}

// faithful checks that got is want, its beginning followed by "…", or
// left out.
func faithful(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want || got == "" {
		return
	}
	if cut, ok := strings.CutSuffix(got, "…"); ok && strings.HasPrefix(want, strings.TrimRight(cut, " ")) {
		return
	}
	t.Errorf("%s %.80q… is not the original %.80q… nor its beginning", what, got, want)
}

// TestSendOversizedNotification checks the body a receiver gets for a
// notification of 1 MB: signed, within the limit, truncated marked.
func TestSendOversizedNotification(t *testing.T) {
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{})
	req := testRequest(rc.URL)
	req.Notification = oversized()["1 MB comment"]
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := rc.requests()[0]
	if len(got.body) > MaxPayloadBytes || !strings.Contains(string(got.body), `,"truncated":true}}`) {
		t.Errorf("body of %d bytes, ending %q", len(got.body), got.body[max(len(got.body)-100, 0):])
	}
	var p Payload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	if want := message.Truncate(req.Notification.Summary, message.MaxFieldRunes); p.Data.Notification.Summary != want {
		t.Errorf("summary of %d characters, want the first %d", utf8.RuneCountInString(p.Data.Notification.Summary), message.MaxFieldRunes)
	}
}
