package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// Every body notifyd sends, of every type, whole or shortened, is what
// openapi.yaml's WebhookEvent schema says: a member the Go types gain
// without the schema fails here.
func TestBodiesMatchTheOpenAPISchema(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(notifyd.OpenAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas["WebhookEvent"]
	if ref == nil {
		t.Fatal("openapi.yaml has no WebhookEvent schema")
	}
	notifications := map[string]*notifyd.Notification{"update": updateNotification(), "reminder": reminderNotification()}
	for _, typ := range notifyd.NotificationTypes {
		notifications[string(typ)] = message.Sample(typ)
	}
	for name, n := range oversized() {
		notifications["oversized "+name] = n
	}
	huge := updateNotification()
	huge.Update.Fields[1].To, huge.Update.UID, huge.Event.UID, huge.UID = hugeText(1<<20), hugeText(4096), hugeText(4096), hugeText(4096)
	notifications["oversized update"] = huge
	for name, n := range notifications {
		req := testRequest("https://hooks.example.org/")
		req.Notification = n
		body, err := Render(req, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if err := ref.Value.VisitJSON(v); err != nil {
			t.Errorf("%s: %v\n%.500s", name, err, body)
		}
	}
}
