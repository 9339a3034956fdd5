package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultSMTPRefusalsAndOutage: while Cyrus produces 500 notifications
// for 100 principals in waves, the SMTP server refuses about a third of
// the recipients for now (421, closing the connection, or 451), and is
// down for 20 s in the middle. Every refusal and the outage are retried:
// in the end each notification is emailed once (a message the server
// stored as it was stopped, before it could answer, may come twice: at
// most one per delivery worker) or dead-lettered with a reason.
func TestFaultSMTPRefusalsAndOutage(t *testing.T) {
	const waves, outage = 5, 20 * time.Second
	sink := peertest.StartSMTP(t)
	r := newFaultRig(t, rigOptions{tag: "smtp", users: 100, channels: smtpChannel(t, sink), methods: emailTo})
	sink.SetRules(t, peertest.Rules{RandomTempFail: 0.3, Seed: int64(r.random() * (1 << 62))})
	r.start(emailReceiver(sink))

	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for range waves {
			r.wave(t, r.users)
			r.sleep(time.Second, 2*time.Second)
		}
	}()
	waitFor(t, time.Minute, func() bool { return r.received(t) >= len(r.users) })
	sink.Stop(t)
	t.Logf("SMTP server stopped with %d messages received", r.received(t))
	time.Sleep(outage)
	sink.Start(t)
	<-produced
	if t.Failed() {
		t.FailNow()
	}

	tl := r.settle(t, 2*time.Minute)
	r.check(t, tl, faultDeliveryWorkers)
	for _, fault := range []string{"421 4.3.2", "451 4.3.0", "connection refused"} {
		n := r.logLines("delivery failed; it will be retried", fault)
		t.Logf("deliveries retried after %q: %d", fault, n)
		if n == 0 {
			t.Errorf("no delivery was retried after %q: that fault did not happen", fault)
		}
	}
}
