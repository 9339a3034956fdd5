package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// Wilma's quiet hours (in Asia/Kolkata, half an hour off UTC) cover now
// and end a minute or two ahead: a calendar change published meanwhile is
// held, visible in the delivery log with its release time; notifyd is
// killed (SIGKILL) while it is held and started again; the email arrives
// once, after quiet hours end.
func TestQuietHoursHeldAcrossSIGKILL(t *testing.T) {
	w := startPublishWorld(t)
	nd, sink := w.nd, w.sink

	zone, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(zone)
	end := now.Add(90 * time.Second).Truncate(time.Minute).Add(time.Minute) // 1.5 to 2.5 minutes ahead
	quiet := map[string]any{"from": now.Add(-time.Hour).Format("15:04"), "to": end.Format("15:04")}
	code, body := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "ens", "principal": wilmaPrincipal,
		"time_zone": "Asia/Kolkata", "methods": []map[string]any{{"channel": "email", "address": wilmaEmail}},
		"preferences": map[string]any{"quiet_hours": []any{quiet}}})
	if code != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", code, body)
	}
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
		"payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted {
		t.Fatalf("event-create: %d %v", code, body)
	}

	var held map[string]any
	waitFor(t, time.Minute, "the delivery held", func() bool {
		code, body := nd.api(t, http.MethodGet, "/v1/deliveries?status=held&principal="+url.QueryEscape(wilmaPrincipal), nil)
		items, _ := body["items"].([]any)
		if code != http.StatusOK || len(items) != 1 {
			return false
		}
		held = items[0].(map[string]any)
		return true
	})
	release, err := time.Parse(time.RFC3339Nano, fmt.Sprint(held["release_at"]))
	if err != nil || !release.Equal(end) || held["held_reason"] != "quiet-hours" {
		t.Fatalf("held %v, want quiet-hours until %v", held, end)
	}

	nd.kill()
	if n := len(sink.Messages(t)); n != 0 {
		t.Fatalf("%d emails during quiet hours", n)
	}
	nd.start()
	msgs := sink.Await(t, 5*time.Minute, "the email after quiet hours", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	if arrived := time.Now(); arrived.Before(end) {
		t.Fatalf("the email arrived at %v, before quiet hours end at %v\n%s", arrived, end, nd.log)
	}
	waitIdle(t, nd, time.Minute)
	if msgs = sink.Messages(t); len(msgs) != 1 || msgs[0].RcptTo[0] != wilmaEmail {
		t.Fatalf("%d emails after quiet hours, want one to wilma", len(msgs))
	}
	ds := w.deliveries(t)
	if len(ds) != 1 || ds[0]["status"] != "sent" || ds[0]["release_at"] == nil {
		t.Fatalf("delivery log %v, want the one delivery sent after its hold", ds)
	}
}
