package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// publishWorld is a notifyd taking published events for system "ens",
// whose calendar server publishes its own alarms and changes (Sun's
// Calendar Server style: notifyd reads none of its calendars), and the
// SMTP sink it sends email to; wilma subscribes by email.
type publishWorld struct {
	nd   *instance
	sink *peertest.SMTP
}

const (
	wilmaPrincipal = "/principals/users/wilma"
	wilmaEmail     = "wilma@example.org"
)

func newPublishWorld(t *testing.T, env ...string) *publishWorld {
	t.Helper()
	w := startPublishWorld(t, env...)
	code, body := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "ens", "principal": wilmaPrincipal,
		"time_zone": "Europe/Paris", "methods": []map[string]any{{"channel": "email", "address": wilmaEmail}}})
	if code != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", code, body)
	}
	return w
}

// startPublishWorld is newPublishWorld without wilma's subscription.
func startPublishWorld(t *testing.T, env ...string) *publishWorld {
	t.Helper()
	sink := peertest.StartSMTP(t)
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  ens:
    caldav_url: http://127.0.0.1:1/
    tokens: [%s]
channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
reminders:
  enabled: false
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, pingToken, sink.Host, sink.Port, ca))
	nd.env = env
	nd.start()
	return &publishWorld{nd: nd, sink: sink}
}

// publish posts a published event of system ens and returns the status
// and answer.
func (w *publishWorld) publish(t *testing.T, members map[string]any) (int, map[string]any) {
	t.Helper()
	body := map[string]any{"system": "ens", "token": pingToken}
	for k, v := range members {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(w.nd.baseURL+"/v1/events", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// deliveries is wilma's delivery log.
func (w *publishWorld) deliveries(t *testing.T) []map[string]any {
	t.Helper()
	code, body := w.nd.api(t, http.MethodGet, "/v1/deliveries?system=ens&principal="+url.QueryEscape(wilmaPrincipal), nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %v", code, body)
	}
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// alarmICS is an event with one alarm, as Calendar Server publishes it
// when the alarm rings (text/calendar).
func alarmICS(uid, summary string) string {
	start := time.Now().Add(15 * time.Minute).UTC().Format("20060102T150405Z")
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sun/Calendar Server//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20261130T080000Z\r\nDTSTART:" + start + "\r\nDURATION:PT30M\r\nSUMMARY:" + summary +
		"\r\nLOCATION:Room 4\r\nBEGIN:VALARM\r\nUID:alarm-1\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// Calendar Server publishes an alarm (in the enp:// form), an event fred
// added to wilma's calendar, a reply (in Sun's XML) and a change wilma
// made herself: the alarm, the new event and the reply reach wilma by
// email once each, a second publish of the alarm is acknowledged as a
// duplicate and sends nothing, and her own change is recorded as
// suppressed, with the reason, and sends nothing.
func TestPublishToEmail(t *testing.T) {
	w := newPublishWorld(t)
	alarm := map[string]any{
		"topic":        "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=standup-1&aid=alarm-1&comptype=event",
		"principal":    wilmaPrincipal,
		"content_type": "text/calendar",
		"payload":      alarmICS("standup-1", "Standup"),
	}
	if code, body := w.publish(t, alarm); code != http.StatusAccepted || body["duplicate"] != false || body["type"] != "reminder" {
		t.Fatalf("alarm: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the alarm's email", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	if s := mailSubject(msgs[0]); !strings.Contains(s, "Standup") || !strings.Contains(msgs[0].Text, "Room 4") || msgs[0].RcptTo[0] != wilmaEmail {
		t.Errorf("the alarm's email: subject %q to %v, text:\n%s", s, msgs[0].RcptTo, msgs[0].Text)
	}
	if code, body := w.publish(t, alarm); code != http.StatusOK || body["duplicate"] != true {
		t.Fatalf("the alarm again: %d %v", code, body)
	}

	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "component_source": "WCAP",
		"content_type": "text/calendar", "payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted || body["type"] != "event-created" {
		t.Fatalf("event-create: %d %v", code, body)
	}
	reply := `<?xml version="1.0" encoding="UTF-8"?><iCalendar><iCal version="2.0" METHOD="REPLY"><EVENT><UID>standup-1</UID>` +
		`<START>20261201T090000Z</START><END>20261201T093000Z</END><SUMMARY>Standup</SUMMARY>` +
		`<ATTENDEE PARTSTAT="ACCEPTED" CN="Fred">mailto:fred@example.org</ATTENDEE></EVENT></iCal></iCalendar>`
	if code, body := w.publish(t, map[string]any{"topic": "event-reply", "principal": wilmaPrincipal, "uid": "standup-1",
		"triggered_by": "mailto:fred@example.org", "component_source": "CALENDAR EXPRESS", "content_type": "text/xml", "payload": reply}); code != http.StatusAccepted || body["type"] != "invitation-reply" {
		t.Fatalf("reply: %d %v", code, body)
	}
	if code, body := w.publish(t, map[string]any{"topic": "event-modify", "principal": wilmaPrincipal, "uid": "standup-1",
		"triggered_by": wilmaPrincipal + "/", "content_type": "text/calendar", "payload": alarmICS("standup-1", "Standup (moved)")}); code != http.StatusAccepted {
		t.Fatalf("own change: %d %v", code, body)
	}

	waitIdle(t, w.nd, time.Minute)
	ds := w.deliveries(t)
	byType := map[string]map[string]any{}
	for _, d := range ds {
		byType[d["notification"].(map[string]any)["type"].(string)] = d
	}
	if len(ds) != 4 || byType["reminder"]["status"] != "sent" || byType["invitation-reply"]["status"] != "sent" || byType["event-created"]["status"] != "sent" {
		t.Fatalf("delivery log, want the alarm, the new event and the reply sent and the own change suppressed:\n%v", ds)
	}
	own := byType["event-modified"]
	if own["status"] != "suppressed" || !strings.Contains(own["last_error"].(string), "made this change") {
		t.Errorf("wilma's own change: %v", own)
	}
	code, body := w.nd.api(t, http.MethodGet, "/v1/deliveries?status=suppressed", nil)
	if items, _ := body["items"].([]any); code != http.StatusOK || len(items) != 1 {
		t.Errorf("GET /v1/deliveries?status=suppressed: %d %v", code, body)
	}
	if !strings.HasPrefix(byType["reminder"]["notification"].(map[string]any)["href"].(string), "enp:///ics/alarms?") {
		t.Errorf("the alarm's notification href: %v", byType["reminder"]["notification"])
	}
	got := w.sink.Messages(t)
	for _, m := range got {
		t.Logf("email %q:\n%s", mailSubject(m), m.Text)
	}
	if len(got) != 3 {
		t.Errorf("%d messages, want the alarm's, the new event's and the reply's", len(got))
	}
	created, replied := false, false
	for _, m := range got {
		created = created || strings.HasPrefix(mailSubject(m), "New event: “Planning”")
		// The published reply says who answered what, as an inbox
		// REPLY does, but carries no text/calendar part: its payload
		// is the event, not fred's iTIP message.
		if strings.HasPrefix(mailSubject(m), "Fred accepted: “Standup”") {
			replied = strings.Contains(m.Text, "Fred accepted your invitation to “Standup”") &&
				!strings.Contains(strings.ToLower(string(m.Raw)), "text/calendar")
		}
	}
	if !created {
		t.Error("no email says the new event")
	}
	if !replied {
		t.Error("no email says Fred accepted, without a text/calendar part")
	}
	if m := metric(t, w.nd, "notifyd_published_duplicates_total"); m != 1 {
		t.Errorf("notifyd_published_duplicates_total %v, want 1", m)
	}
}

// The 2xx of a publish is its durable acknowledgement: published events
// acknowledged just before a SIGKILL (by a process that takes events but
// runs no jobs, so none was sent yet) are each delivered once after the
// restart, and publishing them again then sends nothing more.
func TestPublishSurvivesSIGKILL(t *testing.T) {
	w := newPublishWorld(t, "NOTIFYD_JOBS_RUN=false")
	const n = 10
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = map[string]any{"topic": "alarm", "principal": wilmaPrincipal, "uid": fmt.Sprintf("meeting-%d", i),
			"aid": "alarm-1", "content_type": "text/calendar", "payload": alarmICS(fmt.Sprintf("meeting-%d", i), fmt.Sprintf("Meeting %d", i))}
		if code, body := w.publish(t, events[i]); code != http.StatusAccepted {
			t.Fatalf("publish %d: %d %v", i, code, body)
		}
	}
	w.nd.kill() // right after the last 202

	w.nd.env = nil // this time with the job workers
	w.nd.start()
	msgs := w.sink.Await(t, time.Minute, fmt.Sprintf("%d emails", n), func(m []peertest.ReceivedMessage) bool { return len(m) >= n })
	waitIdle(t, w.nd, time.Minute)
	for _, e := range events {
		if code, body := w.publish(t, e); code != http.StatusOK || body["duplicate"] != true {
			t.Fatalf("publish %s again: %d %v", e["uid"], code, body)
		}
	}
	waitIdle(t, w.nd, time.Minute)
	msgs = w.sink.Messages(t)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[mailSubject(m)]++
	}
	for i := range n {
		found := 0
		for s, c := range seen {
			if strings.Contains(s, fmt.Sprintf("Meeting %d", i)) { // single digits: none contains another
				found += c
			}
		}
		if found != 1 {
			t.Errorf("Meeting %d: %d emails, want 1 (subjects %v)", i, found, seen)
		}
	}
	if len(msgs) != n {
		t.Errorf("%d emails, want %d", len(msgs), n)
	}
	if ds := w.deliveries(t); len(ds) != n {
		t.Errorf("%d deliveries, want %d", len(ds), n)
	}
}
