package console

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// A delivery's page shows each attempt with the provider's reply, in
// order (a 451, then sent with the provider's message ID), its hold and
// release; one recorded before the history was kept still shows its
// attempt count and last reply.
func TestDeliveryTimelineShowsEveryAttempt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.delivery(h.wilmaSub, "n4", store.DeliveryRetrying, "451 4.3.0 mailbox busy")
	now := time.Now()
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: id, Status: store.DeliverySent,
			ProviderID: "<second@example.org>", Started: now, Now: now.Add(1500 * time.Millisecond)}); err != nil {
			return err
		}
		// An old delivery: its history lost, as if made before it was kept.
		_, err := tx.ExecContext(ctx, `DELETE FROM delivery_events WHERE delivery_id = $1`, h.wilmaFailed)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(adminKey)
	r := b.get("/console/deliveries/" + id)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("delivery page: %d", r.StatusCode)
	}
	tl := timelineOf(t, r.Body)
	first := strings.Index(tl, "Attempt 1: Retrying")
	reply := strings.Index(tl, "451 4.3.0 mailbox busy")
	second := strings.Index(tl, "Attempt 2: Sent")
	provider := strings.Index(tl, "&lt;second@example.org&gt;")
	if first < 0 || reply < first || second < reply || provider < second || !strings.Contains(tl, "took 1.5s") {
		t.Errorf("timeline lacks the two attempts in order with the provider's replies:\n%s", tl)
	}

	old := timelineOf(t, b.get("/console/deliveries/"+h.wilmaFailed).Body)
	if !strings.Contains(old, "Failed (Attempts: 1)") || !strings.Contains(old, "550 5.1.1 mailbox unavailable") {
		t.Errorf("a delivery without history: timeline\n%s", old)
	}
	if fr := b.get("/console/deliveries/" + id + "?lang=fr"); fr.StatusCode != http.StatusOK {
		t.Errorf("in French: %d", fr.StatusCode)
	}

	// Held for quiet hours, then released: both shown, with until when.
	release := now.Add(time.Hour).UTC().Truncate(time.Second)
	err = h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'queued' WHERE id = $1`, h.wilmaSent); err != nil {
			return err
		}
		if _, err := store.HoldDelivery(ctx, tx, h.wilmaSent, release, "quiet-hours", false, now); err != nil {
			return err
		}
		_, err := store.ReleaseHeld(ctx, tx, []string{h.wilmaSent}, release)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	held := timelineOf(t, b.get("/console/deliveries/"+h.wilmaSent).Body)
	if !strings.Contains(held, "Held (quiet hours)") || !strings.Contains(held, "until "+when(release)) ||
		!strings.Contains(held, "Released") || !strings.Contains(held, "Waiting for its next attempt") {
		t.Errorf("held and released: timeline\n%s", held)
	}
}

// timelineOf is the timeline list of a delivery page.
func timelineOf(t *testing.T, body string) string {
	t.Helper()
	start := strings.Index(body, `<ol class="timeline" id="timeline">`)
	end := strings.Index(body[max(start, 0):], "</ol>")
	if start < 0 || end < 0 {
		t.Fatalf("no timeline in\n%s", body)
	}
	return body[start : start+end]
}

// A spam complaint about a sent email shows in its timeline, with what
// the report said.
func TestDeliveryTimelineShowsComplaints(t *testing.T) {
	h := newHarness(t)
	if _, err := h.db.RecordComplaint(context.Background(), store.Complaint{DeliveryID: h.wilmaSent,
		Detail: "feedback type abuse from arf.mail.yahoo.com (Yahoo!-Mail-Feedback/2.0)", At: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(adminKey)
	tl := timelineOf(t, b.get("/console/deliveries/"+h.wilmaSent).Body)
	sent, complaint := strings.Index(tl, "Attempt 1: Sent"), strings.Index(tl, "Spam complaint")
	if sent < 0 || complaint < sent || !strings.Contains(tl, "feedback type abuse from arf.mail.yahoo.com") {
		t.Errorf("timeline lacks the complaint after the attempt:\n%s", tl)
	}
}
