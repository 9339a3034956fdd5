package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// A relay (the SMTP sink) answers Gmail's "421 4.7.28 … unusual rate" to
// the first recipients of one domain, slow.example, a provider group of
// its own (slowmail); fast.example is in no group (other). notifyd is
// asked for mail to slow.example first, then to fast.example, with few
// delivery workers. slow.example is slowed (its group's pace shows in
// the metrics) while fast.example's mail goes on: every fast.example
// message is delivered before slow.example's last one (which waits for
// at least one back-off). In the end every message to either domain has
// arrived exactly once, and the refusals are counted under slowmail, none
// under other.
func TestPacingRateRefusalSlowsOnlyThatDomain(t *testing.T) {
	const (
		perDomain = 10
		refusals  = 2
		// backOff is long enough for fast.example's mail to go in it on
		// a loaded machine; it bounds how soon slow.example's last
		// message can arrive, not a duration the test asserts.
		backOff = "10s"
	)
	w := startPublishWorld(t,
		`NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS=[{"name":"slowmail","domains":["slow.example"]}]`,
		"NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_BACK_OFF="+backOff,
		"NOTIFYD_JOBS_DELIVERY_WORKERS=4")
	w.sink.SetRules(t, peertest.Rules{RateFail: map[string]int{"@slow.example": refusals}})

	type recipient struct{ user, addr string }
	var slow, fast []recipient
	for i := range perDomain {
		slow = append(slow, recipient{fmt.Sprintf("slow%d", i), fmt.Sprintf("s%d@slow.example", i)})
		fast = append(fast, recipient{fmt.Sprintf("fast%d", i), fmt.Sprintf("f%d@fast.example", i)})
	}
	for _, r := range append(slices.Clone(slow), fast...) {
		if code, body := w.nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "ens", "principal": "/principals/users/" + r.user,
			"time_zone": "Europe/Paris", "methods": []map[string]any{{"channel": "email", "address": r.addr}}}); code != http.StatusCreated {
			t.Fatalf("subscribe %s: %d %v", r.user, code, body)
		}
	}
	since := w.nd.logMark()
	event := func(r recipient) {
		t.Helper()
		uid := "pace-" + r.user
		if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": "/principals/users/" + r.user,
			"calid": "/calendars/" + r.user + "/work/", "triggered_by": "/principals/users/fred", "component_source": "WCAP",
			"content_type": "text/calendar", "payload": alarmICS(uid, "Event "+uid)}); code != http.StatusAccepted {
			t.Fatalf("event-create %s: %d %v", uid, code, body)
		}
	}
	for _, r := range slow {
		event(r)
	}
	// slow.example is slowed: its group's pace is set (1 message/s).
	waitUntil(t, 2*time.Minute, func() bool {
		m, err := scrape(w.nd.baseURL)
		return err == nil && m[`notifyd_email_pace_slowed_domains{group="slowmail"}`] == 1 && m[`notifyd_email_pace_rate{group="slowmail"}`] > 0
	}, func() string { return "slow.example is not slowed\nnotifyd log (end):\n" + tail(w.nd.log.String(), 40) })
	w.nd.waitLog(t, time.Minute, since, 1, "recipient domain refuses mail for its rate", `"group":"slowmail"`, `"domain":"slow.example"`)
	for _, r := range fast {
		event(r)
	}

	msgs := w.sink.WaitMessages(t, 2*perDomain, 3*time.Minute)
	waitIdle(t, w.nd, 3*time.Minute)
	msgs = w.sink.Messages(t) // in the order they arrived

	got := map[string]int{}
	lastSlow, lastFast := -1, -1
	for i, m := range msgs {
		for _, a := range m.RcptTo {
			got[a]++
			switch {
			case strings.HasSuffix(a, "@slow.example"):
				lastSlow = i
			case strings.HasSuffix(a, "@fast.example"):
				lastFast = i
			}
		}
	}
	for _, r := range append(slices.Clone(slow), fast...) {
		if got[r.addr] != 1 {
			t.Errorf("%s got %d messages, want 1", r.addr, got[r.addr])
		}
	}
	if len(msgs) != 2*perDomain {
		t.Errorf("the sink stored %d messages, want %d", len(msgs), 2*perDomain)
	}
	for id, n := range messageIDs(t, w.sink) {
		if n != 1 {
			t.Errorf("%s arrived %d times", id, n)
		}
	}
	if lastFast > lastSlow {
		var order []string
		for _, m := range msgs {
			order = append(order, strings.Join(m.RcptTo, ","))
		}
		t.Errorf("fast.example's last message arrived after slow.example's last: fast.example's mail waited for the slowed domain\narrival order: %v", order)
	}

	m, err := scrape(w.nd.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	for series, want := range map[string]float64{
		`notifyd_email_pace_refusals_total{group="slowmail"}`: refusals,
		`notifyd_email_pace_refusals_total{group="other"}`:    0,
	} {
		if v, ok := m[series]; !ok || v != want {
			t.Errorf("%s = %v (reported: %v), want %v", series, v, ok, want)
		}
	}
	if t.Failed() {
		t.Logf("notifyd log (end):\n%s", tail(w.nd.log.String(), 60))
	}
}
