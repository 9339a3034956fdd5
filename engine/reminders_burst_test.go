package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// Reminders due at the same second (everyone's 9:00 meeting), more than
// the 500 that used to wait at once, all wait for it together, and are
// fired together: their deliveries share delivery jobs (25 a job)
// rather than each having one. The delivery queue takes at most 16 jobs
// (its workers) per fetch, every 50 ms: with a job each, 5,000
// reminders took 15 seconds or more to reach their channel.
func TestRemindersDueTogetherFireTogether(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	const n = 520
	joined, release := r.eng.HoldRemindersForTest()
	defer release()
	start := time.Now().Add(15*time.Minute + 5*time.Second)
	for i := range n {
		cal.put(fmt.Sprintf("e%d.ics", i), "Standup", start)
	}
	r.syncCalendars(t)
	failsafe := time.After(time.Minute)
	for i := range n {
		select {
		case <-joined:
		case <-failsafe:
			t.Fatalf("%d of %d reminders due together wait for their trigger a minute after they were scheduled", i, n)
		}
	}
	release()
	log := r.settle(t)
	sent := 0
	for _, d := range log {
		if d.Status == store.DeliverySent {
			sent++
		}
	}
	if sent != n || len(r.email.sent) != n {
		t.Fatalf("%d deliveries sent, %d emails, want %d", sent, len(r.email.sent), n)
	}
	if jobs := len(r.jobs(t, deliverKind)) + len(r.jobs(t, batchKind)); jobs > (n+24)/25 {
		t.Errorf("%d delivery jobs for %d reminders due together, want %d (25 deliveries a job)", jobs, n, (n+24)/25)
	}
}
