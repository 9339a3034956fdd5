package im

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		policy  string
		reach   reachability
		send    bool
		skipped string
		fall    bool
	}{
		{notifyd.PresenceOnlineOnly, online, true, "", false},
		{notifyd.PresenceOnlineOnly, offline, false, ReasonOffline, false},
		{notifyd.PresenceOnlineOnly, invisible, false, ReasonOffline + ": why", false},
		{notifyd.PresenceStore, online, true, "", false},
		{notifyd.PresenceStore, offline, true, "", false},
		{notifyd.PresenceStore, invisible, true, "", false},
		{notifyd.PresenceFallback, online, true, "", false},
		{notifyd.PresenceFallback, offline, false, "", true},
		{notifyd.PresenceFallback, invisible, false, "", true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.policy, tc.reach), func(t *testing.T) {
			send, res, err := decide(tc.policy, tc.reach, wilmaJID, "why")
			if send != tc.send || res.Skipped != tc.skipped || errors.Is(err, delivery.ErrFallback) != tc.fall {
				t.Fatalf("decide = %v %+v %v", send, res, err)
			}
			if tc.fall {
				if tmp, _ := delivery.IsTemporary(err); tmp || !strings.Contains(err.Error(), wilmaJID) {
					t.Errorf("fallback error %v", err)
				}
			} else if err != nil {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestPolicyDefault(t *testing.T) {
	for in, want := range map[string]string{
		"":                         notifyd.PresenceOnlineOnly,
		"bogus":                    notifyd.PresenceOnlineOnly,
		notifyd.PresenceOnlineOnly: notifyd.PresenceOnlineOnly,
		notifyd.PresenceStore:      notifyd.PresenceStore,
		notifyd.PresenceFallback:   notifyd.PresenceFallback,
	} {
		if got := policy(notifyd.DeliveryMethod{Presence: in}); got != want {
			t.Errorf("policy(%q) = %q, want %q", in, got, want)
		}
	}
}
