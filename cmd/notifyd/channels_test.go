package main

import (
	"testing"

	"github.com/notifyd/notifyd"
)

// Every channel notifyd knows is wired, and nothing else: a channel added
// to notifyd.Channels without its line here would be refused at runtime.
func TestEveryChannelIsWired(t *testing.T) {
	if len(channelFactories) != len(notifyd.Channels) {
		t.Errorf("%d channel factories for %d channels", len(channelFactories), len(notifyd.Channels))
	}
	for _, c := range notifyd.Channels {
		if channelFactories[c] == nil {
			t.Errorf("channel %s has no factory in channelFactories", c)
		}
	}
}
