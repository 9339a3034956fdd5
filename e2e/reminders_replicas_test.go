package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Two notifyd replicas on one PostgreSQL database, both pinged about
// fred's calendar (as a calendar server behind a load balancer would),
// both polling it: each of fred's reminders rings once, by one replica.
func TestReminderReplicasRingOnce(t *testing.T) {
	w := newReminderWorld(t, reminderSetup{replicas: 2})
	t0 := time.Now().Truncate(time.Second)
	summaries := []string{"Budget review", "Design review", "Stand-up", "Retrospective"}
	var triggers []time.Time
	for i, s := range summaries {
		trigger := t0.Add(time.Duration(8+i) * time.Second)
		triggers = append(triggers, trigger)
		w.putEvent(t, fmt.Sprintf("event%d", i), s, trigger.Add(15*time.Minute))
	}
	marks := make([]int, len(w.nds))
	for i, nd := range w.nds {
		marks[i] = nd.logMark()
		w.ping(t, nd)
	}

	msgs := w.sink.WaitMessages(t, len(summaries), time.Minute)
	rs := w.waitSettled(t, triggers[len(triggers)-1].Add(time.Second))
	msgs = w.sink.Messages(t)
	if len(msgs) != len(summaries) {
		t.Errorf("%d emails, want %d: each reminder once", len(msgs), len(summaries))
	}
	for i, s := range summaries {
		if n := len(mailsAbout(msgs, s)); n != 1 {
			t.Errorf("%d emails about %q, want 1", n, s)
		}
		r := reminderFor(t, rs, s, triggers[i])
		if r["state"] != "fired" {
			t.Errorf("%s: %v, want fired", s, r["state"])
			continue
		}
		checkLate(t, fmt.Sprintf("%q (email)", s), triggers[i], mailArrival(t, mailsAbout(msgs, s)[0]))
	}
	if len(rs) != len(summaries) {
		t.Errorf("%d instances listed, want %d:\n%s", len(rs), len(summaries), showReminders(rs))
	}
	// Which replica rang which: each "reminder fired" line is one ring.
	fired := 0
	for i, nd := range w.nds {
		n := strings.Count(nd.log.String()[marks[i]:], `"msg":"reminder fired"`)
		fired += n
		t.Logf("replica %d rang %d reminders", i, n)
	}
	if fired != len(summaries) {
		t.Errorf("the replicas logged %d rings, want %d", fired, len(summaries))
	}
}
