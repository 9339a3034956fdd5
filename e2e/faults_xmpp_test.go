package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultXMPPServerRestart: while Cyrus produces 120 notifications for
// 20 principals in waves, delivered as instant messages (presence policy
// "store": the server keeps a message for a recipient who is away),
// Prosody is stopped, and started again once notifyd has tried one
// instant message outageAttempts times. notifyd reconnects and carries on; the recipients
// log in again and get what was kept for them. In the end each
// notification reached its recipient once (a message the server took
// just before it stopped, unconfirmed, may come twice: at most one per
// delivery worker) or was dead-lettered with a reason.
func TestFaultXMPPServerRestart(t *testing.T) {
	const waves, outageAttempts = 6, 3
	r := newFaultRig(t, rigOptions{tag: "im", users: 20, presence: "store", methods: func(u string, _ int) []method {
		return []method{{"im", imAddress(u)}}
	}})
	pr := peertest.StartProsody(t, append([]string{"notifyd"}, r.users...)...)
	r.o.channels = xmppChannel(pr)
	var logins []*peertest.XMPPUser
	for _, u := range r.users {
		logins = append(logins, pr.Login(t, u))
	}
	r.start(imReceiver(logins))

	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for range waves {
			r.wave(t, r.users)
			r.sleep(200*time.Millisecond, time.Second)
		}
	}()
	r.waitReceived(t, len(r.users), 2*time.Minute)
	since := r.nd.logMark()
	pr.Stop(t)
	t.Logf("Prosody stopped with %d messages received", r.received(t))
	refused := r.awaitRetried(t, since, outageAttempts, []string{"delivery failed; it will be retried", `"channel":"im"`},
		func(e logEntry) string { return e.Delivery })
	t.Logf("Prosody started again after refusing %d messages", refused)
	pr.Start(t)
	for _, u := range logins {
		u.Reconnect(t, 20*time.Second)
	}
	<-produced
	if t.Failed() {
		t.FailNow()
	}

	tl := r.settle(t, 2*time.Minute)
	r.check(t, tl, faultDeliveryWorkers)
	if n := r.logLines(`"msg":"im: connected to the XMPP server"`); n < 2 {
		t.Errorf("notifyd connected to the XMPP server %d times; want a reconnection after the restart", n)
	}
	n := r.logLines("delivery failed; it will be retried", `"channel":"im"`)
	t.Logf("instant messages retried: %d", n)
	if n == 0 {
		t.Error("no instant message met the restart: it tested nothing")
	}
}

// xmppChannel is the channels YAML for Prosody, as account "notifyd".
func xmppChannel(pr *peertest.Prosody) string {
	return fmt.Sprintf(`  xmpp:
    jid: %s
    password: %s
    server: %s
    tls: starttls
    ca_file: %s`, pr.JID("notifyd"), pr.Password("notifyd"), pr.Addr, pr.CertFile())
}

// imAddress is user's XMPP address.
func imAddress(user string) string { return user + "@" + peertest.ProsodyDomain }
