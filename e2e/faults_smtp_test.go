package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultSMTPRefusalsAndOutage: while Cyrus produces 500 notifications
// for 100 principals in waves, the SMTP server refuses about a third of
// the recipients for now (421, closing the connection, or 451), and is
// down in the middle, until notifyd has tried one message outageAttempts
// times through its backoff. Every refusal and the outage are retried:
// in the end each notification is emailed once (a message the server
// stored as it was stopped, before it could answer, may come twice: at
// most one per delivery worker) or dead-lettered with a reason.
func TestFaultSMTPRefusalsAndOutage(t *testing.T) {
	// outageAttempts: a message's retries back off from retry_base (200ms)
	// to retry_max (2s), several seconds in all.
	const waves, outageAttempts = 5, 6
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
	r.waitReceived(t, len(r.users), 2*time.Minute)
	since := r.nd.logMark()
	sink.Stop(t)
	t.Logf("SMTP server stopped with %d messages received", r.received(t))
	refused := r.awaitRetried(t, since, outageAttempts, []string{"delivery failed; it will be retried", "connection refused"},
		func(e logEntry) string { return e.Delivery })
	t.Logf("SMTP server started again after refusing %d messages", refused)
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
