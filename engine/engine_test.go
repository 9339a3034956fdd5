package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

func TestSyncDeliversOnceAndDeletesWhenDone(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete)
	r.invite(t, "wilma@example.org", "wilma@work.example")
	log := r.settle(t)

	if got := r.email.sentTo(); strings.Join(got, ",") != "wilma@example.org,wilma@work.example" {
		t.Fatalf("sent to %v, want each subscribed address once", got)
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
	if len(r.dav.deleted) != 1 {
		t.Fatalf("deleted %v, want the delivered notification deleted once", r.dav.deleted)
	}
	// Requests: one discovery, one REPORT, one GET, one DELETE, one
	// PROPFIND for the calendar's name.
	if r.dav.count("REPORT") != 1 || r.dav.count("GET") != 1 || r.dav.count("DELETE") != 1 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("CalDAV requests %v", r.dav.requests)
	}

	// A second ping with nothing new sends nothing and makes no GET.
	r.ping(t, principal)
	r.settle(t)
	if n := len(r.email.sentTo()); n != 2 {
		t.Fatalf("after an idle ping %d messages, want still 2", n)
	}
	if r.dav.count("GET") != 1 || r.dav.count("PROPFIND") != 2 {
		t.Errorf("idle ping made requests %v (discovery must be cached)", r.dav.requests)
	}
}

// However often a principal is pinged, and even when the server refuses
// the stored sync token (a full resync), each notification is sent once.
func TestPingsAndResyncsSendEachNotificationOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	r.dav.add("n1.xml", inviteXML("n1"))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { r.ping(t, principal) })
	}
	wg.Wait()
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 || len(r.dav.deleted) != 0 {
		t.Fatalf("10 pings sent %v and deleted %v, want one message and nothing deleted (policy keep)", got, r.dav.deleted)
	}
	// The server forgets its tokens: the stored one is now refused.
	r.dav.locked(func() { r.dav.badTokens["v1"] = true })
	r.dav.add("n2.xml", inviteXML("n2"))
	r.ping(t, principal)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 2 {
		t.Fatalf("after a full resync %d messages, want 2 (n1 once, n2 once)", len(got))
	}
}

func TestCalDAVOutageIsRetriedUntilItIsBack(t *testing.T) {
	t.Parallel()
	// Attempts enough that the sync is still retried, however late the
	// test sees its first failure.
	r := newRig(t, engine.PolicyKeep, func(o *engine.Options) { o.MaxAttempts = 1000 })
	ends := r.jobEnds(t)
	r.dav.locked(func() { r.dav.down = &caldavclient.HTTPError{Method: "PROPFIND", Status: 503} })
	r.invite(t, "wilma@example.org")
	nextEnd(t, ends, syncKind, river.EventKindJobFailed)
	if len(r.email.sentTo()) != 0 {
		t.Fatal("sent while the server was down")
	}
	r.dav.locked(func() { r.dav.down = nil })
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Fatalf("after the outage %d messages, want 1", len(got))
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
