package preferences

import "github.com/notifyd/notifyd"

// Chain splits methods (those that want a notification, in the
// subscription's order) by p.ChannelOrder: chain holds the methods of the
// listed channels in that order (methods of one channel in their own
// order), to be tried one after the other until one delivers; rest holds
// the others, each to be delivered to as without preferences. Without a
// channel order, chain is empty and rest is methods.
func Chain(p *notifyd.Preferences, methods []notifyd.DeliveryMethod) (chain, rest []notifyd.DeliveryMethod) {
	if p == nil || len(p.ChannelOrder) == 0 {
		return nil, methods
	}
	for _, c := range p.ChannelOrder {
		for _, m := range methods {
			if m.Channel == c {
				chain = append(chain, m)
			}
		}
	}
	for _, m := range methods {
		listed := false
		for _, c := range p.ChannelOrder {
			listed = listed || m.Channel == c
		}
		if !listed {
			rest = append(rest, m)
		}
	}
	return chain, rest
}
