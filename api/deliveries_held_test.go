package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// TestDeliveriesHeld: a delivery the subscription's preferences hold is
// listed with status held, its release time and the reason.
func TestDeliveriesHeld(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	release := t0.Add(9 * time.Hour)
	rec := store.SyncRecord{System: sysCal, Principal: alice, Token: "tok", Now: t0,
		Notifications: []store.NotificationRecord{{ID: digestID("h1"), Href: alice + "/notifications/h1.xml", ETag: `"1"`,
			Type: "share-invite", Parsed: []byte("{}")}},
		Deliveries: []store.DeliveryRecord{{ID: digestID("h1", "email"), NotificationID: digestID("h1"),
			SubscriptionID: "0190a3c4-0000-7000-8000-000000000001", MethodID: "m_1", Channel: "email", Address: "alice@example.org"}}}
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := store.RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		_, err := store.HoldDelivery(ctx, tx, digestID("h1", "email"), release, "quiet-hours", true, t1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?status=held", bearer: apiKey})
	if res.status != http.StatusOK {
		t.Fatalf("GET: %d %s", res.status, res.body)
	}
	var page struct {
		Items []struct {
			Status     string `json:"status"`
			ReleaseAt  string `json:"release_at"`
			HeldReason string `json:"held_reason"`
			HeldDigest bool   `json:"held_digest"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d held deliveries listed, want 1: %s", len(page.Items), res.body)
	}
	d := page.Items[0]
	at, err := time.Parse(time.RFC3339Nano, d.ReleaseAt)
	if d.Status != store.DeliveryHeld || err != nil || !at.Equal(release) || d.HeldReason != "quiet-hours" || !d.HeldDigest {
		t.Fatalf("listed %+v, want held until %v for quiet-hours, in a digest", d, release)
	}
}
