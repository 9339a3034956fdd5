package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// Each notification is sent once to each subscribed address, and
// deleted once all its messages are sent and recorded, their records
// flushed to disk together at the end of their batch: no notification
// leaves the server ahead of its record, or of the records of the others
// of its batch.
func TestSyncDeliversOnceAndDeletesWhenDone(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete)
	var unrecorded []string
	r.dav.onDelete = func(href string) { // in the worker's goroutine
		log, err := r.db.Deliveries(context.Background(), store.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Error(err)
		}
		for _, d := range log {
			if d.Status != store.DeliverySent {
				unrecorded = append(unrecorded, d.NotificationHref+" "+d.Address+" "+d.Status)
			}
		}
	}
	r.dav.add("n2.xml", inviteXML("n2"))
	r.invite(t, "wilma@example.org", "wilma@work.example")
	log := r.settle(t)

	if got := r.email.sentTo(); strings.Join(got, ",") != strings.Repeat("wilma@example.org,", 2)+"wilma@work.example,wilma@work.example" {
		t.Fatalf("sent to %v, want each notification to each subscribed address once", got)
	}
	for _, d := range log {
		if d.Status != store.DeliverySent || d.Attempts != 1 || d.NotificationType != string(notifyd.TypeShareInvite) {
			t.Errorf("delivery %+v, want sent in one attempt", d)
		}
	}
	req := r.email.sent[0]
	if req.Notification.From.CommonName != "Fred" || req.CalendarName != "Fred's calendar" || req.TimeZone == nil {
		t.Errorf("request lacks what a readable message needs: %+v / %+v", req, req.Notification)
	}
	if n := len(r.jobs(t, batchKind, rivertype.JobStateCompleted)); n != 1 || len(r.dav.deleted) != 2 || len(unrecorded) > 0 {
		t.Fatalf("%d batch jobs, deleted %v, unrecorded at a DELETE %v; want the 4 deliveries in one batch, both "+
			"notifications deleted once, after every record", n, r.dav.deleted, unrecorded)
	}
	// Requests: one discovery, one REPORT, a GET and a DELETE each, one
	// PROPFIND for the calendar's name (cached).
	if r.dav.count("REPORT") != 1 || r.dav.count("GET") != 2 || r.dav.count("DELETE") != 2 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("CalDAV requests %v", r.dav.requests)
	}

	// A second ping with nothing new sends nothing and makes no GET.
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 4 {
		t.Fatalf("after an idle ping %d messages, want still 4", n)
	}
	if r.dav.count("GET") != 2 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("idle ping made requests %v (discovery must be cached)", r.dav.requests)
	}
}

// A notification that cannot be read (not XML, or far too large) is set
// aside with the reason: the principal's other notifications are
// delivered, it stays on the server, and later syncs do not fetch it
// again.
func TestUnreadableNotificationDoesNotBlockTheOthers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, reason string
		tooLarge           bool
	}{
		{name: "not XML", body: "this is not XML <<<", reason: "XML"},
		{name: "too large", body: string(inviteXML("huge")), reason: "too large", tooLarge: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, engine.PolicyDelete)
			r.subscribe(t, principal, "wilma@example.org")
			r.dav.add("bad.xml", []byte(tc.body))
			r.dav.add("good.xml", inviteXML("good"))
			if tc.tooLarge {
				r.dav.tooLarge = "/dav/notifications/user/wilma/bad.xml"
			}
			r.ping(t, principal)
			r.settle(t)
			if got := r.email.sentTo(); len(got) != 1 {
				t.Fatalf("sent %v, want the good notification delivered", got)
			}
			var status, reason string
			testdb.QueryRow(r.db, `SELECT status, error FROM notifications WHERE href LIKE '%bad.xml'`).Scan(&status, &reason)
			if status != store.NotificationDead || !strings.Contains(reason, tc.reason) {
				t.Fatalf("unreadable notification: status %q reason %q, want dead, saying %q", status, reason, tc.reason)
			}
			if len(r.dav.deleted) != 1 || !strings.HasSuffix(r.dav.deleted[0], "good.xml") {
				t.Fatalf("deleted %v: the unreadable one must stay on the server", r.dav.deleted)
			}
			gets := r.dav.count("GET")
			r.dav.add("next.xml", inviteXML("next"))
			r.ping(t, principal)
			r.settle(t)
			if got := r.email.sentTo(); len(got) != 2 {
				t.Fatalf("after another ping sent %v, want the next notification delivered too", got)
			}
			if n := r.dav.count("GET") - gets; n != 1 {
				t.Fatalf("the next sync made %d GETs, want 1 (the unreadable notification is not fetched again)", n)
			}
		})
	}
}

func TestUnknownPrincipalIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, "/dav/principals/user/nobody/", "x@example.org")
	r.ping(t, "/dav/principals/user/nobody/")
	r.settle(t)
	st, _ := r.db.Principal(context.Background(), "cal", "/dav/principals/user/nobody/")
	if !st.Gone || st.LastError == "" || st.SyncedGen != st.DirtyGen {
		t.Fatalf("state %+v, want gone with the reason and settled", st)
	}
	if n := r.dav.count("PROPFIND"); n != 1 {
		t.Fatalf("%d discovery requests, want 1 (no retries)", n)
	}
}

// A process that stops between recording a notification's last delivery
// and deleting it leaves it settled but unfinished: the sweep finishes it.
func TestSweepFinishesWhatAnInterruptedRunLeft(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) { o.SweepInterval = 100 * time.Millisecond })
	r.invite(t, "wilma@example.org")
	r.settle(t)
	if len(r.dav.deleted) != 1 {
		t.Fatalf("deleted %v, want n1 deleted right after its delivery", r.dav.deleted)
	}
	// As if the run had stopped before the DELETE.
	ends := r.jobEnds(t)
	if _, err := testdb.Exec(r.db, `UPDATE notifications SET status = 'delivered', finish_queued = FALSE, settled_at = 1, finished_at = 0`); err != nil {
		t.Fatal(err)
	}
	// The sweep is a periodic job: it runs once this process is elected
	// leader (River takes a few seconds), and queues the policy's job.
	nextEnd(t, ends, finishKind, river.EventKindJobCompleted)
	var status string
	testdb.QueryRow(r.db, `SELECT status FROM notifications`).Scan(&status)
	if n := r.dav.count("DELETE"); status != store.NotificationDone || n != 2 {
		t.Fatalf("status %q, deletes %d; want the sweep to apply the policy", status, n)
	}
	if len(r.email.sentTo()) != 1 {
		t.Fatalf("the sweep sent again: %v", r.email.sentTo())
	}
}

// A notification nobody wants is neither sent nor deleted by the delete
// policy (nobody was told), and the principal's token moves on. Without a
// subscription it is not even fetched; one the subscriptions do not want
// (a type they do not take, a method switched off) is fetched once,
// recorded as kept, and not fetched again by a full resync.
func TestUnwantedNotificationIsNeitherSentNorDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name                 string
		subscribed, disabled bool
		types                []notifyd.NotificationType
	}{
		{name: "no subscription"},
		{name: "type unwanted", subscribed: true, types: []notifyd.NotificationType{notifyd.TypeReminder}},
		{name: "method disabled", subscribed: true, disabled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, engine.PolicyDelete)
			gets := 0
			if tc.subscribed {
				sub, err := r.subs.Create(ctx, subscriptions.Input{System: "cal", Principal: principal, Types: tc.types,
					Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "wilma@example.org"}}})
				if err == nil && tc.disabled {
					_, err = r.subs.DisableMethod(ctx, sub.ID, sub.Methods[0].ID)
				}
				if err != nil {
					t.Fatal(err)
				}
				gets = 1
			}
			r.invite(t)
			r.settle(t)
			r.dav.locked(func() { r.dav.badTokens["v1"] = true }) // a full resync
			r.ping(t, principal)
			r.settle(t)
			if len(r.email.sentTo()) != 0 || len(r.dav.deleted) != 0 || r.dav.count("GET") != gets {
				t.Fatalf("sent %v deleted %v, requests %v: want nothing sent or deleted, %d GETs", r.email.sentTo(), r.dav.deleted, r.dav.requests, gets)
			}
			if st, err := r.db.Principal(ctx, "cal", principal); err != nil || st.SyncToken != "v1" || st.SyncedGen != st.DirtyGen {
				t.Fatalf("state %+v, %v: want token advanced and the principal clean", st, err)
			}
			var status, note string
			testdb.QueryRow(r.db, `SELECT status, error FROM notifications`).Scan(&status, &note)
			if (status == store.NotificationDone && strings.Contains(note, "kept")) != tc.subscribed {
				t.Fatalf("notification %q %q, want it done and kept if fetched, else none", status, note)
			}
		})
	}
}

// A collection that moved (404 where it was) is discovered again, and
// what is in it is delivered.
func TestMovedCollectionIsRediscovered(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.ping(t, principal)
	r.settle(t)
	r.dav.locked(func() { r.dav.collection = "/dav/notifications/user/wilma-moved/" })
	r.dav.add("n1.xml", inviteXML("n1"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("sent %v after the collection moved, want the invite delivered", got)
	}
	st, _ := r.db.Principal(context.Background(), "cal", principal)
	if st.CollectionURL != "/dav/notifications/user/wilma-moved/" {
		t.Fatalf("stored collection %q, want the new one", st.CollectionURL)
	}
}

// A delivery that keeps failing for now is given up once it is older than
// MaxAge, even with attempts left: a dead letter, not a late message.
func TestDeliveryOlderThanMaxAgeIsGivenUp(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep, func(o *engine.Options) { o.MaxAge, o.MaxAttempts = time.Hour, 1000 })
	r.failWith(func(_ context.Context, _ *delivery.Request, attempt int) error {
		if attempt == 1 { // the delivery was queued two hours ago
			if _, err := testdb.Exec(r.db, `UPDATE deliveries SET created_at = created_at - 7200000000, queued_at = queued_at - 7200000000`); err != nil {
				t.Error(err)
			}
		}
		return delivery.Temporary(errors.New("451 4.3.0 mailbox busy"), 0)
	})
	r.invite(t, "wilma@example.org")
	log := r.settle(t)
	if len(log) != 1 || log[0].Status != store.DeliveryFailed || log[0].Attempts != 2 || !strings.Contains(log[0].LastError, "max_age") {
		t.Fatalf("deliveries %+v, want one failed for its age at its second attempt", log)
	}
	if len(r.email.sentTo()) != 0 {
		t.Fatal("sent after all")
	}
	// Retried by an operator once the cause is fixed, the dead letter
	// counts its age from the retry, and goes.
	r.failWith(nil)
	if _, err := r.eng.RetryDelivery(context.Background(), log[0].ID); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("after the retry, sent %v, want the message once", got)
	}
}

// The mark policy rewrites a delivered notification in place, only if it
// is still the version delivered (If-Match), with notifyd's <processed>
// element added inside its root element: it stays in the collection, and
// the next sync, which finds it changed, neither sends it again nor marks
// it again. A server that refuses the PUT (Cyrus) keeps it as it was.
func TestMarkPolicy(t *testing.T) {
	t.Parallel()
	for _, refused := range []bool{false, true} {
		name, note := "accepted", "marked as processed"
		if refused {
			name, note = "refused", "kept: the server does not accept changes to notifications"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, engine.PolicyMark)
			r.dav.refusePut = refused
			r.invite(t, "wilma@example.org")
			r.settle(t)
			var status, got string
			testdb.QueryRow(r.db, `SELECT status, error FROM notifications`).Scan(&status, &got)
			if status != store.NotificationDone || got != note || len(r.dav.deleted) != 0 || r.dav.count("PUT") != 1 {
				t.Fatalf("notification %s %q, deleted %v, %d PUTs; want it done, %q, not deleted, one PUT",
					status, got, r.dav.deleted, r.dav.count("PUT"), note)
			}
			if !refused {
				p := r.dav.puts[0]
				orig := string(inviteXML("n1"))
				end := strings.LastIndex(orig, "</")
				at, ok := strings.CutPrefix(string(p.body), orig[:end]+`<N:processed xmlns:N="urn:notifyd" at="`)
				at, ok2 := strings.CutSuffix(at, `"/>`+orig[end:])
				if _, err := time.Parse(time.RFC3339, at); !ok || !ok2 || err != nil {
					t.Errorf("PUT body:\n%s\nwant the notification with <N:processed at=\"(RFC 3339)\"/> before its root's end tag", p.body)
				}
				if p.href != "/dav/notifications/user/wilma/n1.xml" || p.ifMatch != `"e1"` || !strings.HasPrefix(p.contentType, "application/xml") {
					t.Errorf("PUT %s If-Match %s Content-Type %s, want the notification's href, its delivered ETag, XML", p.href, p.ifMatch, p.contentType)
				}
			}
			r.ping(t, principal)
			r.settle(t)
			if sent := r.email.sentTo(); len(sent) != 1 || r.dav.count("PUT") != 1 {
				t.Errorf("after the next sync, sent %v and %d PUTs; want the one message and the one PUT", sent, r.dav.count("PUT"))
			}
		})
	}
}
