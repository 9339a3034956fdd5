package e2e

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// reminders lists fred's alarm instances (GET /v1/reminders) in trigger
// order, the next 500 of them.
func (w *reminderWorld) reminders(t testing.TB) []map[string]any {
	t.Helper()
	q := url.Values{"system": {w.system}, "principal": {w.principal()}, "limit": {"500"}}
	status, list := w.nd.api(t, http.MethodGet, "/v1/reminders?"+q.Encode(), nil)
	if status != http.StatusOK {
		t.Fatalf("GET /v1/reminders: %d %v", status, list)
	}
	var out []map[string]any
	items, _ := list["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any))
	}
	return out
}

// waitReminders waits until fred's alarm instances, as GET /v1/reminders
// lists them, satisfy done, and returns them. notifyd is another
// process: its API is polled (waitUntil).
func (w *reminderWorld) waitReminders(t testing.TB, timeout time.Duration, what string, done func([]map[string]any) bool) []map[string]any {
	t.Helper()
	var rs []map[string]any
	waitUntil(t, timeout, func() bool { rs = w.reminders(t); return done(rs) }, func() string {
		return fmt.Sprintf("GET /v1/reminders shows no %s:\n%s\nnotifyd log (end):\n%s", what, showReminders(rs), tail(w.nd.log.String(), 40))
	})
	return rs
}

// reminderStates maps each instance's summary, recurrence id and trigger
// to its state: "Budget review@20260301T090000Z" (the recurrence id is
// left out when empty) to "fired".
func reminderStates(rs []map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, r := range rs {
		key := fmt.Sprint(r["summary"])
		if rid, _ := r["recurrence_id"].(string); rid != "" {
			key += "@" + rid
		}
		out[key] = append(out[key], fmt.Sprint(r["state"]))
	}
	return out
}

// showReminders is rs, one line each, for a failure message.
func showReminders(rs []map[string]any) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %v %q rid=%v trigger=%v state=%v reason=%q late=%v\n", r["component"], r["summary"], r["recurrence_id"],
			r["trigger"], r["state"], r["reason"], r["late_seconds"])
	}
	return b.String()
}

// reminderFor returns the one instance of rs with summary summary
// triggering at trigger, failing the test if there is not exactly one.
func reminderFor(t testing.TB, rs []map[string]any, summary string, trigger time.Time) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range rs {
		if r["summary"] == summary && reminderTrigger(t, r).Equal(trigger) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d instances of %q at %s, want 1:\n%s", len(found), summary, trigger.UTC().Format(time.RFC3339), showReminders(rs))
	}
	return found[0]
}

// reminderTrigger is the trigger time of an instance GET /v1/reminders
// lists.
func reminderTrigger(t testing.TB, r map[string]any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["trigger"]))
	if err != nil {
		t.Fatalf("trigger of %v: %v", r, err)
	}
	return at
}

// handedOff is how late notifyd handed an instance it fired to its
// channels (fired_at − trigger, to the microsecond).
func handedOff(t testing.TB, r map[string]any) time.Duration {
	t.Helper()
	fired, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["fired_at"]))
	if err != nil {
		t.Fatalf("fired_at of %v: %v", r, err)
	}
	return fired.Sub(reminderTrigger(t, r))
}

// settled reports whether every instance of rs triggering before until is
// fired, skipped or cancelled: none is left to ring.
func settled(t testing.TB, rs []map[string]any, until time.Time) bool {
	for _, r := range rs {
		if r["state"] == "scheduled" && reminderTrigger(t, r).Before(until) {
			return false
		}
	}
	return true
}

// waitSettled waits until every instance triggering before until is
// final, and then until every notifyd has nothing left to deliver: every
// message the reminders rang is then with its peer. It returns the
// instances.
func (w *reminderWorld) waitSettled(t testing.TB, until time.Time) []map[string]any {
	t.Helper()
	rs := w.waitReminders(t, time.Minute+time.Until(until), "instance still to ring before "+until.UTC().Format(time.RFC3339),
		func(rs []map[string]any) bool { return settled(t, rs, until) })
	for _, nd := range w.nds {
		waitIdle(t, nd, time.Minute)
	}
	return rs
}

// mailArrival is when the SMTP sink stored m: its Maildir name starts
// with the time, in seconds with microseconds.
func mailArrival(t testing.TB, m peertest.ReceivedMessage) time.Time {
	t.Helper()
	name := filepath.Base(m.Path)
	secs, _, ok := strings.Cut(name, ".P")
	f, err := strconv.ParseFloat(secs, 64)
	if !ok || err != nil {
		t.Fatalf("Maildir name %q does not start with a time", name)
	}
	return time.Unix(0, int64(f*1e6)*1e3)
}

// mailSubject is m's decoded Subject.
func mailSubject(m peertest.ReceivedMessage) string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// mailsAbout returns the reminder emails about summary: their subject is
// "Reminder: SUMMARY" followed by when ("at 09:00", ", due …") or by
// nothing.
func mailsAbout(msgs []peertest.ReceivedMessage, summary string) []peertest.ReceivedMessage {
	var out []peertest.ReceivedMessage
	for _, m := range msgs {
		rest, ok := strings.CutPrefix(mailSubject(m), "Reminder: "+summary)
		if ok && (rest == "" || rest[0] == ' ' || rest[0] == ',') {
			out = append(out, m)
		}
	}
	return out
}

// lateness bounds how late a reminder may arrive in these tests: a sanity
// bound far beyond the target (a second) that only a reminder not timed
// at all would cross. The figures are logged, not asserted.
const lateness = 30 * time.Second

// checkLate fails the test when a reminder that should ring on time
// arrived before its trigger or later than lateness, and logs how late.
func checkLate(t testing.TB, what string, trigger, arrived time.Time) {
	t.Helper()
	late := arrived.Sub(trigger)
	t.Logf("%s arrived %v after its trigger", what, late.Round(time.Millisecond))
	if late < 0 || late > lateness {
		t.Errorf("%s arrived %v after its trigger, want between 0 and %v", what, late, lateness)
	}
}
