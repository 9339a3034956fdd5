package subscriptions

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/notifyd/notifyd"
)

// newEpoch returns a fresh notifyd.DeliveryMethod.Epoch: 64 random bits.
func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setEpochs gives each of methods its Epoch: a new one when it becomes
// enabled (new, added back after removal, or re-enabled), else the one of
// the stored method with its ID in current (none for a method added
// disabled). Re-enabling thus invalidates the unsubscribe links made
// before.
func setEpochs(methods []notifyd.DeliveryMethod, current map[string]notifyd.DeliveryMethod) {
	for i := range methods {
		m := &methods[i]
		cur := current[m.ID] // the zero method (disabled, no epoch) if new
		if m.Enabled && !cur.Enabled {
			m.Epoch = newEpoch()
		} else {
			m.Epoch = cur.Epoch
		}
	}
}

// Unsubscribe switches off the delivery method of a checked unsubscribe
// link, unless it was enabled again since the link was made
// (ErrLinkStale, nothing written). It is idempotent; notifyd.ErrNotFound
// if the subscription or method is gone.
func (s *Service) Unsubscribe(ctx context.Context, link Link) (*notifyd.Subscription, error) {
	for {
		sub, err := s.store.Subscription(ctx, link.SubscriptionID)
		if err != nil {
			return nil, err
		}
		m := findMethod(sub, link.MethodID)
		switch {
		case m == nil:
			return nil, notifyd.ErrNotFound
		case !link.Current(*m):
			return sub, ErrLinkStale
		case !m.Enabled:
			return sub, nil
		}
		m.Enabled = false
		// The version read must still be the stored one: a change made
		// meanwhile (a re-enabling above all) is read again.
		if err := s.update(ctx, sub, sub.Version, s.clock()); err != notifyd.ErrConflict {
			return sub, err
		}
	}
}

// findMethod returns sub's delivery method with id, or nil.
func findMethod(sub *notifyd.Subscription, id string) *notifyd.DeliveryMethod {
	for i := range sub.Methods {
		if sub.Methods[i].ID == id {
			return &sub.Methods[i]
		}
	}
	return nil
}
