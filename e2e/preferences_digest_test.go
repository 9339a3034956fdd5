package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// heldFor waits until principal of system has want deliveries held in the
// delivery log, and returns them.
func heldFor(t *testing.T, nd *instance, system, principal string, want int) []map[string]any {
	t.Helper()
	var held []map[string]any
	waitUntil(t, 2*time.Minute, func() bool {
		code, body := nd.api(t, http.MethodGet, "/v1/deliveries?status=held&limit=200&system="+system+
			"&principal="+url.QueryEscape(principal), nil)
		items, _ := body["items"].([]any)
		if code != http.StatusOK || len(items) < want {
			return false
		}
		held = held[:0]
		for _, it := range items {
			held = append(held, it.(map[string]any))
		}
		return true
	}, func() string {
		return fmt.Sprintf("%d deliveries held, want %d; notifyd log (end):\n%s", len(held), want, tail(nd.log.String(), 30))
	})
	return held
}

// fred shares his calendar with wilma, who wants one summary a day. fred
// makes thirty changes to it (ten events created, then each retitled, then
// each moved), plus an event created and deleted again, each change read
// by notifyd on its own (Cyrus pings, a one-second burst window): wilma's
// thirty-two updates are held, and at her digest's time one email lists
// each of the ten events once, as it is now, and not the one undone.
func TestDigestOfThirtyChangesFromCyrus(t *testing.T) {
	t.Parallel()
	cy := peertest.StartCyrus(t, "fred", "wilma")
	cy.GrantCalendar(t, "fred", "Default")
	cy.Share(t, "fred", "wilma", true)
	for _, n := range cy.ListNotifications(t, "wilma") {
		cy.AcceptInvite(t, "wilma", n)
	}
	w := newUpdatesWorld(t, cy, "cyrus", time.Second, "    principal_prefix: /dav/principals/user/\n")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// Due in 3 to 4 minutes: time for thirty changes on a loaded machine.
	due := time.Now().Add(3 * time.Minute).Truncate(time.Minute).Add(time.Minute)
	status, sub := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": "cyrus", "principal": cy.PrincipalHref("wilma"), "types": updateTypes, "time_zone": "Europe/Paris",
		"methods":     []map[string]any{{"channel": "email", "address": "wilma@example.org"}},
		"preferences": map[string]any{"digest": map[string]any{"mode": "daily", "at": due.In(paris).Format("15:04")}},
	})
	if status != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", status, sub)
	}
	w.ping(t, "wilma")
	w.ping(t, "fred")
	w.waitSyncs(t, 1) // the first sync records the calendar: nothing is told

	day := time.Now().Truncate(24*time.Hour).AddDate(0, 0, 7)
	put := func(uid, ics string) { peertest.PutCalendarObject(t, cy, "fred", fredsCalendar+uid+".ics", ics) }
	const events = 10
	rounds := []func(i int){
		func(i int) {
			put(fmt.Sprint("ev", i), icsEvent(fmt.Sprint("ev", i), fmt.Sprintf("Draft %d", i), day.Add(9*time.Hour)))
		},
		func(i int) {
			put(fmt.Sprint("ev", i), icsEvent(fmt.Sprint("ev", i), fmt.Sprintf("Review %d", i), day.Add(9*time.Hour)))
		},
		func(i int) {
			put(fmt.Sprint("ev", i), icsEvent(fmt.Sprint("ev", i), fmt.Sprintf("Review %d", i), day.Add(time.Duration(10+i%4)*time.Hour)))
		},
	}
	for _, round := range rounds {
		for i := range events {
			round(i)
		}
		w.ping(t, "fred")
		w.waitTold(t, events)
	}
	put("gone", icsEvent("gone", "Cancelled party", day.Add(20*time.Hour)))
	w.ping(t, "fred")
	w.waitTold(t, 1)
	peertest.DeleteCalendarObject(t, cy, "fred", fredsCalendar+"gone.ics")
	w.ping(t, "fred")
	w.waitTold(t, 1)

	held := heldFor(t, w.nd, "cyrus", cy.PrincipalHref("wilma"), 3*events+2)
	if time.Now().After(due) {
		t.Fatalf("the thirty-two updates were held only after the digest was due (%v): the machine is too slow for this test's schedule", due)
	}
	for _, d := range held {
		if d["held_reason"] != "digest" || !sameInstant(d["release_at"], due) {
			t.Fatalf("held %v, want in the digest due at %v", d, due)
		}
	}
	if n := len(w.sink.Messages(t)); n != 0 {
		t.Fatalf("%d emails before the digest was due", n)
	}

	msgs := w.sink.Await(t, time.Until(due)+2*time.Minute, "the digest", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	waitIdle(t, w.nd, time.Minute)
	if msgs = w.sink.Messages(t); len(msgs) != 1 || msgs[0].RcptTo[0] != "wilma@example.org" {
		t.Fatalf("%d emails %v, want one digest to wilma", len(msgs), subjects(msgs))
	}
	m := msgs[0]
	if s := mailSubject(m); !strings.HasPrefix(s, fmt.Sprintf("%d calendar updates", events)) {
		t.Errorf("digest subject %q, want %d calendar updates", s, events)
	}
	for i := range events {
		if n := strings.Count(m.Text, fmt.Sprintf("Review %d”", i)); n != 1 {
			t.Errorf("the digest names “Review %d” %d times, want once:\n%s", i, n, m.Text)
		}
	}
	for _, gone := range []string{"Draft", "Cancelled party"} {
		if strings.Contains(m.Text, gone) {
			t.Errorf("the digest mentions %q, which no longer is:\n%s", gone, m.Text)
		}
	}
	for _, d := range w.deliveriesOf(t, "wilma") {
		if d["status"] != "sent" && d["status"] != "skipped" {
			t.Errorf("after the digest, delivery %v is %v", d["id"], d["status"])
		}
	}
}

// sameInstant reports whether the RFC 3339 time s is the instant want.
func sameInstant(s any, want time.Time) bool {
	got, err := time.Parse(time.RFC3339Nano, fmt.Sprint(s))
	return err == nil && got.Equal(want)
}

// deliveriesOf is user's delivery log.
func (w *updatesWorld) deliveriesOf(t *testing.T, user string) []map[string]any {
	t.Helper()
	code, body := w.nd.api(t, http.MethodGet, "/v1/deliveries?limit=200&system="+w.system+"&principal="+
		url.QueryEscape(w.srv.PrincipalHref(user)), nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %v", code, body)
	}
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// Wilma may get three messages every two minutes by email: of five
// calendar changes published within one period, three arrive at once and
// the fourth and fifth are held (throttle) and arrive together in one
// digest when the period ends. (The example is three per hour;
// two minutes runs the same rule in a test's time.)
func TestThrottleFoldsTheRestIntoTheNextDigest(t *testing.T) {
	t.Parallel()
	w := newPublishWorld(t)
	nd := w.nd
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// Periods fall on even minutes of Paris's clock: start at the
	// beginning of one, with nearly two minutes to publish five changes.
	const period = 2 * time.Minute
	now := time.Now().In(paris)
	local := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
	start := now.Add(period - local.Sub(local.Truncate(period)))
	// Waits for an instant (a fresh throttle period), not for something to
	// happen: nothing is asserted about how long anything took, and a
	// slow machine is caught below (the period's end passed) with a clear
	// message rather than a wrong count.
	time.Sleep(time.Until(start.Add(time.Second)))
	end := start.Add(period)
	code, body := nd.api(t, http.MethodPatch, "/v1/subscriptions/"+wilmasSubscription(t, nd), map[string]any{
		"preferences": map[string]any{"throttle": map[string]any{"max": 3, "per": "2m"}}})
	if code != http.StatusOK {
		t.Fatalf("wilma's throttle: %d %v", code, body)
	}
	for i := 1; i <= 5; i++ {
		if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
			"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
			"payload": alarmICS(fmt.Sprint("meeting-", i), fmt.Sprint("Meeting ", i))}); code != http.StatusAccepted {
			t.Fatalf("event-create %d: %d %v", i, code, body)
		}
	}
	w.sink.Await(t, time.Minute, "three emails at once", func(m []peertest.ReceivedMessage) bool { return len(m) >= 3 })
	held := heldFor(t, nd, "ens", wilmaPrincipal, 2)
	if time.Now().After(end) {
		t.Fatalf("five publishes took past the throttle period's end (%v): the machine is too slow for this test's schedule", end)
	}
	for _, d := range held {
		if d["held_reason"] != "throttle" || !sameInstant(d["release_at"], end) {
			t.Fatalf("held %v, want held by the throttle until %v", d, end)
		}
	}
	if n := len(w.sink.Messages(t)); n != 3 {
		t.Fatalf("%d emails within the period, want 3", n)
	}
	msgs := w.sink.Await(t, 3*time.Minute, "the digest of the other two", func(m []peertest.ReceivedMessage) bool { return len(m) >= 4 })
	waitIdle(t, nd, time.Minute)
	if msgs = w.sink.Messages(t); len(msgs) != 4 {
		t.Fatalf("%d emails %v, want three and a digest", len(msgs), subjects(msgs))
	}
	digest := msgs[3]
	if !strings.HasPrefix(mailSubject(digest), "2 calendar updates") {
		t.Errorf("fourth email %q, want the digest of 2 calendar updates", mailSubject(digest))
	}
	var inDigest []string
	for i := 1; i <= 5; i++ {
		if strings.Contains(digest.Text, fmt.Sprint("Meeting ", i)) {
			inDigest = append(inDigest, fmt.Sprint(i))
		}
	}
	if len(inDigest) != 2 {
		t.Errorf("the digest names meetings %v, want the two held", inDigest)
	}
}
