package subscriptions

import (
	"context"

	"github.com/notifyd/notifyd"
)

// Target is one delivery method that wants a notification.
type Target struct {
	SubscriptionID string
	Method         notifyd.DeliveryMethod
	Locale         string
	TimeZone       string
}

// ForPrincipal returns the enabled subscriptions of a principal.
func (s *Service) ForPrincipal(ctx context.Context, system, principal string) ([]*notifyd.Subscription, error) {
	var out []*notifyd.Subscription
	f := notifyd.SubscriptionFilter{System: system, Principal: principal, Limit: 500}
	for {
		page, err := s.store.Subscriptions(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, sub := range page {
			if sub.Enabled {
				out = append(out, sub)
			}
		}
		if len(page) < f.Limit {
			return out, nil
		}
		f.After = page[len(page)-1].ID
	}
}

// Targets returns the enabled methods of subs that want notifications of
// type t: the subscription's types (empty: all) and the method's own types
// (empty: the subscription's) must both admit t. A method listed by two
// subscriptions (the same channel and address) is returned once.
func Targets(subs []*notifyd.Subscription, t notifyd.NotificationType) []Target {
	var out []Target
	seen := make(map[string]bool)
	for _, sub := range subs {
		if !sub.Enabled || !admits(sub.Types, t) {
			continue
		}
		for _, m := range sub.Methods {
			key := string(m.Channel) + "\x00" + m.Address
			if !m.Enabled || !admits(m.Types, t) || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Target{SubscriptionID: sub.ID, Method: m, Locale: sub.Locale, TimeZone: sub.TimeZone})
		}
	}
	return out
}

func admits(types []notifyd.NotificationType, t notifyd.NotificationType) bool {
	if len(types) == 0 {
		return true
	}
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// DisableMethod switches one delivery method of a subscription off (a
// one-click unsubscribe, or a provider saying the recipient is gone). It
// is idempotent; notifyd.ErrNotFound if the subscription or method is gone.
func (s *Service) DisableMethod(ctx context.Context, subscriptionID, methodID string) (*notifyd.Subscription, error) {
	for {
		sub, err := s.store.Subscription(ctx, subscriptionID)
		if err != nil {
			return nil, err
		}
		found, changed := false, false
		for i := range sub.Methods {
			if sub.Methods[i].ID == methodID {
				found = true
				changed = sub.Methods[i].Enabled
				sub.Methods[i].Enabled = false
			}
		}
		if !found {
			return nil, notifyd.ErrNotFound
		}
		if !changed {
			return sub, nil
		}
		if err := s.update(ctx, sub, sub.Version, s.clock()); err != notifyd.ErrConflict {
			return sub, err
		}
		// Changed meanwhile: read again and retry.
	}
}
