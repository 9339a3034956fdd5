package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// A delivery retried after a temporary failure keeps both attempts in its
// history, each with the provider's reply, in order; so does a batch
// delivery's first attempt (the batch job) and its retry (its own job).
func TestDeliveryHistoryKeepsEveryAttempt(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.failWith(func(_ context.Context, _ *delivery.Request, attempt int) error {
		if attempt == 1 {
			return delivery.Temporary(errors.New("451 4.3.0 mailbox busy"), 0)
		}
		return nil
	})
	r.invite(t, "wilma@example.org")
	log := r.settle(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent || log[0].Attempts != 2 {
		t.Fatalf("deliveries %+v, want one sent at its second attempt", log)
	}
	events, err := r.db.DeliveryEvents(context.Background(), log[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("history %+v, want two attempts", events)
	}
	first, second := events[0], events[1]
	if first.Kind != store.EventAttempt || first.Attempt != 1 || first.Status != store.DeliveryRetrying ||
		first.Detail != "451 4.3.0 mailbox busy" || first.StartedAt.After(first.At) {
		t.Errorf("first attempt %+v, want attempt 1 retrying with the provider's 451", first)
	}
	if second.Kind != store.EventAttempt || second.Attempt != 2 || second.Status != store.DeliverySent ||
		second.ProviderID != "fake-"+log[0].ID || second.Detail != "" || second.StartedAt.Before(first.At) {
		t.Errorf("second attempt %+v, want attempt 2 sent with the provider's ID, after the first", second)
	}
}
