package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// digestRequest is a digest of "Team meeting" moved twice (updateNotification,
// then a location change back and a new title), a "Draft" created and
// deleted, and a sharing invitation.
func digestRequest(address string) *delivery.Request {
	second := updateNotification()
	second.Update.Fields = []notifyd.FieldChange{{Field: notifyd.FieldSummary, From: "Team meeting", To: "Team sync"}}
	second.Event.Summary = "Team sync"
	draft := func(typ notifyd.NotificationType) *notifyd.Notification {
		_, action, _ := strings.Cut(string(typ), "-")
		return &notifyd.Notification{Type: typ, Calendar: second.Calendar, Event: &notifyd.Event{UID: "draft"},
			Update: &notifyd.Update{Component: "event", Action: action, UID: "draft"}}
	}
	req := testRequest(address)
	req.Notification, req.CalendarName, req.DeliveryID = nil, "", "digest-1"
	req.Digest = &delivery.Digest{Since: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Items: []delivery.DigestItem{
			{DeliveryID: "d1", Notification: updateNotification(), CalendarName: "Work"},
			{DeliveryID: "d2", Notification: draft(notifyd.TypeEventCreated)},
			{DeliveryID: "d3", Notification: second, CalendarName: "Work"},
			{DeliveryID: "d4", Notification: draft(notifyd.TypeEventDeleted)},
			{DeliveryID: "d5", Notification: testNotification},
		}}
	return req
}

// A digest's body: type "digest", its window, and the collapsed items,
// each as a single notification's body.
func TestRenderDigest(t *testing.T) {
	body, undone, err := RenderDigest(digestRequest("https://hooks.example.org/"), time.Date(2026, 12, 1, 9, 0, 5, 0, time.UTC))
	if err != nil || undone {
		t.Fatal(undone, err)
	}
	var p DigestPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "digest" || !p.Timestamp.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) || p.Data.DeliveryID != "digest-1" ||
		p.Data.Since.Hour() != 8 || p.Data.Until.Hour() != 9 || p.Data.Truncated || p.Data.Omitted != 0 {
		t.Errorf("payload %+v", p)
	}
	if strings.Join(p.Data.Undone, ",") != "d2,d4" {
		t.Errorf("undone %q", p.Data.Undone)
	}
	if len(p.Data.Items) != 2 {
		t.Fatalf("%d items, want 2: %s", len(p.Data.Items), body)
	}
	meeting, invite := p.Data.Items[0], p.Data.Items[1]
	if meeting.Type != "notification.event-modified" || meeting.Data.DeliveryID != "d3" || meeting.Data.System != "cyrus" {
		t.Errorf("first item %+v", meeting)
	}
	var fields []string
	for _, f := range meeting.Data.Notification.Update.Fields {
		fields = append(fields, f.Field+":"+f.From+">"+f.To)
	}
	if got := strings.Join(fields, ","); got != "start:>,location:Room 1>Room 2,summary:Team meeting>Team sync" {
		t.Errorf("net fields %s", got)
	}
	if invite.Type != "notification.share-invite" || invite.Data.DeliveryID != "d5" {
		t.Errorf("second item %+v", invite)
	}
}

// A digest too large for one body keeps the first items that fit and
// says how many it left out; every body matches openapi.yaml's
// WebhookDigest schema.
func TestRenderDigestFitsAndMatchesTheSchema(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(notifyd.OpenAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas["WebhookDigest"]
	if ref == nil {
		t.Fatal("openapi.yaml has no WebhookDigest schema")
	}
	big := digestRequest("https://hooks.example.org/")
	big.Digest.Items = nil
	for i := range 400 {
		n := message.Sample(notifyd.TypeEventDeleted)
		n.Update.UID = strings.Repeat("u", i+1)
		n.Summary = strings.Repeat("long ", 100)
		big.Digest.Items = append(big.Digest.Items, delivery.DigestItem{DeliveryID: "d", Notification: n})
	}
	for name, req := range map[string]*delivery.Request{"small": digestRequest("https://hooks.example.org/"), "big": big} {
		body, _, err := RenderDigest(req, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(body) > MaxPayloadBytes {
			t.Errorf("%s: %d bytes", name, len(body))
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if err := ref.Value.VisitJSON(v); err != nil {
			t.Errorf("%s: %v\n%.500s", name, err, body)
		}
		var p DigestPayload
		json.Unmarshal(body, &p)
		if name == "big" && (p.Data.Omitted == 0 || !p.Data.Truncated || len(p.Data.Items)+p.Data.Omitted != 400) {
			t.Errorf("big: %d items, %d omitted, truncated %v", len(p.Data.Items), p.Data.Omitted, p.Data.Truncated)
		}
	}
}

// The channel POSTs a digest once, signed like any request; a digest
// whose changes all cancelled out is not sent.
func TestSendDigest(t *testing.T) {
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{})
	res, err := ch.Send(context.Background(), digestRequest(rc.URL+"/hook"))
	if err != nil || res.Skipped != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	got := rc.requests()
	if len(got) != 1 || got[0].header.Get(HeaderID) != "digest-1" || got[0].header.Get(HeaderSignature) == "" ||
		!strings.HasPrefix(string(got[0].body), `{"type":"digest",`) {
		t.Fatalf("requests %+v", got)
	}
	req := digestRequest(rc.URL + "/hook")
	req.Digest.Items = []delivery.DigestItem{req.Digest.Items[1], req.Digest.Items[3]}
	res, err = ch.Send(context.Background(), req)
	if err != nil || res.Skipped != message.DigestUndone {
		t.Errorf("%+v, %v", res, err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests, want still 1", n)
	}
}
