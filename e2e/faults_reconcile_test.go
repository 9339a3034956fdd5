package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// receiver reads what one channel's peer received so far.
type receiver struct {
	read func(t testing.TB) []arrival
	// flush, when not nil, waits until read sees every message the peer
	// has taken from notifyd (one it may still be passing on).
	flush func(t testing.TB)
}

// arrival is one message a peer received for one recipient; text is where
// the calendar's name is looked for.
type arrival struct{ channel, address, text string }

// emailReceiver reads the SMTP sink's Maildir.
func emailReceiver(sink *peertest.SMTP) receiver {
	// The sink stores a message before it accepts it: nothing to flush.
	return receiver{read: func(t testing.TB) []arrival {
		var out []arrival
		for _, m := range sink.Messages(t) {
			for _, rcpt := range m.RcptTo {
				out = append(out, arrival{"email", strings.ToLower(rcpt), m.Header.Get("Subject") + "\n" + m.Text})
			}
		}
		return out
	}}
}

// smsReceiver reads the messages Prism accepted through the proxy.
func smsReceiver(p *peertest.FaultProxy) receiver {
	// The proxy records an exchange before it answers: nothing to flush.
	return receiver{read: func(testing.TB) []arrival {
		var out []arrival
		for _, x := range p.Exchanges() {
			if x.Method == http.MethodPost && strings.HasSuffix(x.Path, "/Messages.json") && x.Status == http.StatusCreated {
				out = append(out, arrival{"sms", x.Form.Get("To"), x.Form.Get("Body")})
			}
		}
		return out
	}}
}

// imReceiver reads the messages the XMPP users received. notifyd's
// delivery ends once the server has taken the message, which it then
// passes on to the recipient: flushing makes a round trip to the server
// for each user (peertest.XMPPUser.Sync), after which the user has what
// the server passed on before.
func imReceiver(users []*peertest.XMPPUser) receiver {
	return receiver{read: func(testing.TB) []arrival {
		var out []arrival
		for _, u := range users {
			for _, m := range u.Messages() {
				out = append(out, arrival{"im", strings.ToLower(u.JID), m.Body})
			}
		}
		return out
	}, flush: func(t testing.TB) {
		for _, u := range users {
			u.Sync(t, time.Minute)
		}
	}}
}

// waitReceived waits until the peers have received at least n messages
// (their states are read again and again: some are other processes).
func (r *faultRig) waitReceived(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, func() bool { return r.received(t) >= n }, func() string {
		return fmt.Sprintf("the peers received %d messages, want at least %d\nnotifyd log (end):\n%s", r.received(t), n, tail(r.nd.log.String(), 40))
	})
}

// received counts the messages the peers received so far.
func (r *faultRig) received(t testing.TB) int {
	n := 0
	for _, recv := range r.receivers {
		n += len(recv.read(t))
	}
	return n
}

// tally is a reconciliation of what Cyrus produced with what the peers
// received and what notifyd dead-lettered.
type tally struct {
	// produced counts Cyrus's notifications; targets the (notification,
	// channel, address) messages they call for.
	produced, targets int
	// delivered counts targets received at least once; duplicates the
	// extra copies; deadLettered the targets notifyd gave up with a
	// reason.
	delivered, duplicates, deadLettered int
	// missing are targets neither received nor dead-lettered; unexpected
	// messages no target explains; problems other broken promises (a
	// dead letter without a reason, a message both received and
	// dead-lettered, notifyd's record of a received message not "sent").
	missing, unexpected, problems []string
}

func (tl tally) String() string {
	return fmt.Sprintf("%d notifications produced, %d messages due: %d delivered (+%d duplicates), %d dead-lettered, %d missing, %d unexpected, %d other problems",
		tl.produced, tl.targets, tl.delivered, tl.duplicates, tl.deadLettered, len(tl.missing), len(tl.unexpected), len(tl.problems))
}

type target struct{ channel, address, calendar string }

type deliveryKey struct{ channel, address, href string }

// reconcile compares every notification Cyrus produced with what the
// peers received and notifyd's dead letters and delivery log.
func (r *faultRig) reconcile(t testing.TB) tally {
	t.Helper()
	// What the peers received, by target.
	got := map[target]int{}
	var tl tally
	for _, recv := range r.receivers {
		for _, a := range recv.read(t) {
			cal := r.calRE.FindString(a.text)
			if cal == "" {
				tl.unexpected = append(tl.unexpected, fmt.Sprintf("%s to %s names none of the scenario's calendars: %.200q", a.channel, a.address, a.text))
				continue
			}
			got[target{a.channel, a.address, cal}]++
		}
	}
	dead := r.listDeliveries(t, "/v1/dead-letters")
	log := r.listDeliveries(t, "/v1/deliveries")

	r.mu.Lock()
	produced := make(map[noticeKey]string, len(r.produced))
	for k, v := range r.produced {
		if !r.aside[k] {
			produced[k] = v
		}
	}
	r.mu.Unlock()
	tl.produced = len(produced)
	for k, href := range produced {
		for _, m := range r.methods[k.user] {
			tl.targets++
			tg := target{m.channel, strings.ToLower(m.address), k.calendar}
			dk := deliveryKey{m.channel, strings.ToLower(m.address), href}
			n := got[tg]
			delete(got, tg)
			d, isDead := dead[dk]
			rec := log[dk]
			switch {
			case n > 0 && isDead:
				tl.problems = append(tl.problems, fmt.Sprintf("%v received %d times and dead-lettered: %v", tg, n, d["last_error"]))
			case n > 0:
				tl.delivered++
				tl.duplicates += n - 1
				if s := rec["status"]; s != "sent" && s != "delivered" {
					tl.problems = append(tl.problems, fmt.Sprintf("%v received, but notifyd's delivery log says %v (%v)", tg, s, rec["last_error"]))
				}
			case isDead:
				tl.deadLettered++
				if reason, _ := d["last_error"].(string); strings.TrimSpace(reason) == "" {
					tl.problems = append(tl.problems, fmt.Sprintf("%v dead-lettered without a reason: %v", tg, d))
				}
			default:
				state := "no delivery in notifyd's log"
				if rec != nil {
					state = fmt.Sprintf("delivery %v, %v attempts, last error %q", rec["status"], rec["attempts"], rec["last_error"])
				}
				tl.missing = append(tl.missing, fmt.Sprintf("%v (%s): %s", tg, href, state))
			}
		}
	}
	for tg, n := range got {
		tl.unexpected = append(tl.unexpected, fmt.Sprintf("%v received %d times, but Cyrus produced no such notification", tg, n))
	}
	sort.Strings(tl.missing)
	sort.Strings(tl.unexpected)
	return tl
}

// listDeliveries reads every page of a delivery listing of the system.
func (r *faultRig) listDeliveries(t testing.TB, path string) map[deliveryKey]map[string]any {
	t.Helper()
	out := map[deliveryKey]map[string]any{}
	cursor := ""
	for {
		q := url.Values{"system": {faultSystem}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		code, body := r.nd.api(t, http.MethodGet, path+"?"+q.Encode(), nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, body)
		}
		items, _ := body["items"].([]any)
		for _, it := range items {
			d := it.(map[string]any)
			n, _ := d["notification"].(map[string]any)
			href, _ := n["href"].(string)
			addr, _ := d["address"].(string)
			ch, _ := d["channel"].(string)
			out[deliveryKey{ch, strings.ToLower(addr), href}] = d
		}
		cursor, _ = body["next_cursor"].(string)
		if cursor == "" {
			return out
		}
	}
}

// settle waits until every produced notification is delivered or
// dead-lettered and notifyd is idle (its backlog empty: notifyd has sent
// everything it will), flushes the receivers (a peer may still be passing
// a message on), and returns the final reconciliation, where a stray
// duplicate would show. It fails the test after timeout, listing what is
// missing.
func (r *faultRig) settle(t testing.TB, timeout time.Duration) tally {
	t.Helper()
	start := time.Now()
	var tl tally
	// A reconciliation reads every delivery through notifyd's API: every
	// half second, not to load notifyd.
	waitUntilEvery(t, 500*time.Millisecond, timeout, func() bool {
		tl = r.reconcile(t)
		return len(tl.missing) == 0 && r.idle(t)
	}, func() string {
		return fmt.Sprintf("not settled: %s; notifyd's backlog: %v\nfirst missing:\n%s\nnotifyd log (end):\n%s",
			tl, r.backlog(t), first(tl.missing, 10), tail(r.nd.log.String(), 40))
	})
	t.Logf("settled in %s", time.Since(start).Round(time.Millisecond))
	for _, recv := range r.receivers {
		if recv.flush != nil {
			recv.flush(t)
		}
	}
	return r.reconcile(t)
}

// check fails the test unless the reconciliation keeps every promise:
// nothing missing, nothing unexpected, no other problem, and at most
// maxDuplicates duplicates.
func (r *faultRig) check(t testing.TB, tl tally, maxDuplicates int) {
	t.Helper()
	t.Logf("reconciliation: %s", tl)
	if len(tl.missing) > 0 {
		t.Errorf("%d messages missing (neither received nor dead-lettered):\n%s", len(tl.missing), first(tl.missing, 20))
	}
	if len(tl.unexpected) > 0 {
		t.Errorf("%d unexpected messages:\n%s", len(tl.unexpected), first(tl.unexpected, 20))
	}
	if len(tl.problems) > 0 {
		t.Errorf("%d problems:\n%s", len(tl.problems), first(tl.problems, 20))
	}
	if tl.duplicates > maxDuplicates {
		t.Errorf("%d duplicate messages, more than the %d allowed", tl.duplicates, maxDuplicates)
	}
	if tl.produced == 0 || tl.targets == 0 {
		t.Error("nothing was produced: the scenario tested nothing")
	}
}

// first returns the first n lines of list, one per line.
func first(list []string, n int) string {
	if len(list) > n {
		list = append(list[:n:n], fmt.Sprintf("… and %d more", len(list)-n))
	}
	return strings.Join(list, "\n")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
