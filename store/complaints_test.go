package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// complaintWorld records a notification with sent email deliveries
// d-email (to Wilma@Example.org), d-other (to fred@example.org) and a
// sent SMS, d-sms.
func complaintWorld(t *testing.T) (*DB, time.Time) {
	t.Helper()
	db := migratedDB(t)
	now := time.Now()
	rec := SyncRecord{System: "cal", Principal: "/p/wilma/", Token: "t1", Now: now,
		Notifications: []NotificationRecord{{ID: "n1", Href: "/n/1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")}},
		Deliveries: []DeliveryRecord{
			{ID: "d-email", NotificationID: "n1", SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "Wilma@Example.org"},
			{ID: "d-other", NotificationID: "n1", SubscriptionID: "s", MethodID: "m2", Channel: "email", Address: "fred@example.org"},
			{ID: "d-sms", NotificationID: "n1", SubscriptionID: "s", MethodID: "m3", Channel: "sms", Address: "+15550100"},
		}}
	recordSync(t, db, rec,
		DeliveryOutcome{ID: "d-email", Status: DeliverySent, Now: now},
		DeliveryOutcome{ID: "d-other", Status: DeliverySent, Now: now},
		DeliveryOutcome{ID: "d-sms", Status: DeliverySent, Now: now})
	return db, now
}

// countEvents counts delivery id's events of kind.
func countEvents(t *testing.T, db *DB, id, kind string) int {
	t.Helper()
	events, err := db.DeliveryEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// A complaint about a sent email puts the delivery's own address on the
// suppression list with reason complaint, audited as notifyd's, and
// keeps the event in the delivery's history; the delivery stays sent.
// The same complaint again changes nothing; a complaint about an
// address already suppressed keeps its first reason; one about an
// unknown or non-email delivery is not found.
func TestRecordComplaint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, now := complaintWorld(t)

	later := now.Add(time.Hour) // the complaint comes after the attempt
	c := Complaint{DeliveryID: "d-email", Detail: "feedback type abuse from arf.mail.yahoo.com (Yahoo!-Mail-Feedback/2.0)", At: later}
	out, err := db.RecordComplaint(ctx, c)
	if err != nil || out.Duplicate || !out.Added || out.Suppressed != "wilma@example.org" || out.Delivery.Status != DeliverySent {
		t.Fatalf("complaint: %+v, %v; want wilma@example.org suppressed, the delivery sent", out, err)
	}
	s, err := db.Suppressed(ctx, "email", "wilma@example.org")
	if err != nil || s == nil || s.Reason != SuppressComplaint || s.Detail != c.Detail || s.DeliveryID != "d-email" ||
		s.Actor != (AuditActor{Kind: ActorKindNotifyd, Name: "complaint report"}) {
		t.Fatalf("suppression: %+v, %v; want reason complaint with the detail and the delivery, by notifyd", s, err)
	}
	if d, err := db.Delivery(ctx, "d-email"); err != nil || d.Status != DeliverySent || d.LastError != "" {
		t.Errorf("delivery after the complaint: %+v, %v; want it sent as before", d, err)
	}
	events, err := db.DeliveryEvents(ctx, "d-email")
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != EventComplaint || last.Status != DeliverySent || last.Detail != c.Detail || !last.At.Equal(fromMicros(micros(later))) {
		t.Errorf("last event %+v, want the complaint", last)
	}

	// Sent again (a provider retrying, two replicas reading one mailbox).
	out, err = db.RecordComplaint(ctx, c)
	if err != nil || !out.Duplicate || out.Added || out.Suppressed != "" {
		t.Fatalf("the same complaint again: %+v, %v; want a duplicate", out, err)
	}
	if n := countEvents(t, db, "d-email", EventComplaint); n != 1 {
		t.Errorf("%d complaint events, want 1", n)
	}
	audit, err := db.AuditEntries(ctx, AuditFilter{Action: ActionSuppressionAdded, Limit: 10})
	if err != nil || len(audit) != 1 || audit[0].ResourceID != "email:wilma@example.org" || audit[0].Actor.Name != "complaint report" {
		t.Errorf("audit: %+v, %v; want one suppression.added of wilma by the complaint report", audit, err)
	}

	// An address suppressed already keeps its reason.
	if _, _, err := db.AddSuppression(ctx, Suppression{Channel: notifyd.ChannelEmail, Address: "fred@example.org", Reason: SuppressManual}); err != nil {
		t.Fatal(err)
	}
	out, err = db.RecordComplaint(ctx, Complaint{DeliveryID: "d-other", Detail: "feedback type abuse from hotmail.com", At: now})
	if err != nil || out.Added || out.Suppressed != "fred@example.org" {
		t.Fatalf("complaint about a suppressed address: %+v, %v", out, err)
	}
	if s, _ := db.Suppressed(ctx, "email", "fred@example.org"); s == nil || s.Reason != SuppressManual {
		t.Errorf("suppression %+v, want the manual one kept", s)
	}
	if n := countEvents(t, db, "d-other", EventComplaint); n != 1 {
		t.Errorf("%d complaint events, want 1", n)
	}

	for _, id := range []string{"d-sms", "nosuch"} {
		if _, err := db.RecordComplaint(ctx, Complaint{DeliveryID: id, Detail: "x", At: now}); !errors.Is(err, notifyd.ErrNotFound) {
			t.Errorf("complaint about %s: %v, want not found", id, err)
		}
	}
}

// The same report recorded at once by several writers (two replicas
// reading one mailbox while the provider also sends it to the listener)
// gives one event, for a complaint and for a bounce: on PostgreSQL the
// writers commit in parallel transactions.
func TestReportsRecordedAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, now := complaintWorld(t)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := db.RecordComplaint(ctx, Complaint{DeliveryID: "d-email", Detail: "feedback type abuse", At: now})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := db.RecordBounce(ctx, Bounce{DeliveryID: "d-other", Hard: true, Detail: "5.1.1 user unknown", At: now})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countEvents(t, db, "d-email", EventComplaint); n != 1 {
		t.Errorf("%d complaint events, want 1", n)
	}
	if n := countEvents(t, db, "d-other", EventBounce); n != 1 {
		t.Errorf("%d bounce events, want 1", n)
	}
}
