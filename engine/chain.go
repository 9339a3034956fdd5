package engine

import (
	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/preferences"
	"github.com/notifyd/notifyd/subscriptions"
)

// A subscription's channel order (preferences.Chain) makes the methods of
// the channels it lists a fallback chain: a notification goes to the
// first of them that wants it, and to the next only when that one cannot
// deliver it (the channel asks to fall back, as an offline IM recipient
// under presence: fallback; a permanent failure; the method switched off
// since). The IM fallback without a channel order is the same walk over
// the subscription's other methods, in the subscription's order.

// targets is subscriptions.Targets with each subscription's channel order
// applied: of the methods of its chain, only the first is a target.
func targets(subs []*notifyd.Subscription, t notifyd.NotificationType) []subscriptions.Target {
	out := subscriptions.Targets(subs, t)
	ordered := map[string]*notifyd.Subscription{}
	for _, s := range subs {
		if s.Preferences != nil && len(s.Preferences.ChannelOrder) > 0 {
			ordered[s.ID] = s
		}
	}
	if len(ordered) == 0 {
		return out
	}
	later := map[string]bool{} // methods of a chain after its first
	for _, s := range ordered {
		var ms []notifyd.DeliveryMethod
		for _, tg := range out {
			if tg.SubscriptionID == s.ID {
				ms = append(ms, tg.Method)
			}
		}
		chain, _ := preferences.Chain(s.Preferences, ms)
		for _, m := range chain[min(1, len(chain)):] {
			later[s.ID+"\x00"+m.ID] = true
		}
	}
	kept := out[:0]
	for _, tg := range out {
		if !later[tg.SubscriptionID+"\x00"+tg.Method.ID] {
			kept = append(kept, tg)
		}
	}
	return kept
}

// walk returns the methods of sub that want notifications of type t
// (enabled or not) in the order a delivery falls back through them from
// method id: its chain when id is in the subscription's chain, the other
// methods in the subscription's order otherwise; and whether id is in
// the chain.
func walk(sub *notifyd.Subscription, id string, t notifyd.NotificationType) (order []notifyd.DeliveryMethod, chained bool) {
	all := *sub
	all.Enabled = true
	all.Methods = make([]notifyd.DeliveryMethod, len(sub.Methods))
	for i, m := range sub.Methods {
		m.Enabled = true
		all.Methods[i] = m
	}
	var wanting []notifyd.DeliveryMethod
	for _, tg := range subscriptions.Targets([]*notifyd.Subscription{&all}, t) {
		for _, m := range sub.Methods {
			if m.ID == tg.Method.ID {
				wanting = append(wanting, m) // as stored: enabled or not
			}
		}
	}
	chain, rest := preferences.Chain(sub.Preferences, wanting)
	for _, m := range chain {
		if m.ID == id {
			return chain, true
		}
	}
	return rest, false
}

// nextMethod returns the enabled method of sub a delivery of a type t
// notification through method id falls back to, or nil.
func nextMethod(sub *notifyd.Subscription, id string, t notifyd.NotificationType) *notifyd.DeliveryMethod {
	order, _ := walk(sub, id, t)
	after := false
	for i, m := range order {
		if after && m.Enabled {
			return &order[i]
		}
		after = after || m.ID == id
	}
	return nil
}

// inChain reports whether method id of sub is in its fallback chain for
// notifications of type t, with a method after it.
func inChain(sub *notifyd.Subscription, id string, t notifyd.NotificationType) bool {
	if sub == nil || sub.Preferences == nil || len(sub.Preferences.ChannelOrder) == 0 {
		return false
	}
	if _, chained := walk(sub, id, t); !chained {
		return false
	}
	return nextMethod(sub, id, t) != nil
}
