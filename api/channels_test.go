package api_test

import (
	"errors"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/subscriptions"
)

// The contract's channel enum is notifyd.Channels, and each channel has
// its address rules: adding a channel in one place and not the others
// fails here.
func TestChannelsAgreeEverywhere(t *testing.T) {
	t.Parallel()
	doc, _ := spec()
	var inSpec []string
	for _, v := range doc.Components.Schemas["Channel"].Value.Enum {
		inSpec = append(inSpec, v.(string))
	}
	if len(inSpec) != len(notifyd.Channels) {
		t.Errorf("openapi.yaml's Channel enum %v, notifyd.Channels %v", inSpec, notifyd.Channels)
	}
	for i, c := range notifyd.Channels {
		if i < len(inSpec) && inSpec[i] != string(c) {
			t.Errorf("openapi.yaml's Channel enum %v, notifyd.Channels %v", inSpec, notifyd.Channels)
		}
		if _, err := subscriptions.NormalizeAddress(c, "x"); err == nil || errors.Is(err, subscriptions.ErrUnknownChannel) {
			t.Errorf("channel %s has no address rules in subscriptions.NormalizeAddress", c)
		}
	}
}
