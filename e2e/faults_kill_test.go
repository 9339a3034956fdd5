package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultSIGKILLDuringBurst: Cyrus produces 2,000 notifications for 200
// principals in waves while notifyd is SIGKILLed at random moments and
// started again on its data, at least 5 times. In the end each
// notification is emailed once (a repeat is allowed only for a message in
// flight at a kill: at most kills × delivery workers) or dead-lettered
// with a reason.
func TestFaultSIGKILLDuringBurst(t *testing.T) {
	const waves, minKills = 10, 5
	sink := peertest.StartSMTP(t)
	r := newFaultRig(t, rigOptions{tag: "kill", users: 200, channels: smtpChannel(t, sink), methods: emailTo})
	r.start(emailReceiver(sink))

	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for range waves {
			r.wave(t, r.users)
			r.sleep(0, 500*time.Millisecond)
		}
	}()
	start := time.Now()
	for {
		r.sleep(300*time.Millisecond, 2*time.Second)
		done := false
		select {
		case <-produced:
			done = true
		default:
		}
		if done && (r.kills >= minKills || r.idle(t)) {
			break
		}
		r.kill()
	}
	if t.Failed() {
		t.FailNow()
	}
	if r.kills < minKills {
		t.Fatalf("only %d kills happened before the burst was over; the scenario needs %d", r.kills, minKills)
	}
	t.Logf("%d waves produced and %d SIGKILLs in %s", waves, r.kills, time.Since(start).Round(time.Millisecond))

	// A kill interrupts the after-delivery policy of notifications just
	// settled; they stay outstanding until the sweep queues them, one to
	// two sweep periods (a minute each) after they settled, and settle
	// waits for that (measured: about 70 s after the last kill).
	tl := r.settle(t, 3*time.Minute)
	bound := r.kills * faultDeliveryWorkers
	t.Logf("duplicates: %d (allowed: %d kills × %d delivery workers = %d)", tl.duplicates, r.kills, faultDeliveryWorkers, bound)
	r.check(t, tl, bound)
	if tl.produced != waves*len(r.users) {
		t.Errorf("Cyrus produced %d notifications, want %d", tl.produced, waves*len(r.users))
	}
}
