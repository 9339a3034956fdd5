package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// TestSubscriptionPreferences checks that preferences are stored with the
// subscription, replaced by an update, and that none (nil or empty) reads
// back as nil: the subscription behaves as before preferences existed.
func TestSubscriptionPreferences(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	s := sampleSub("0193a0b0-0000-7000-8000-0000000000p1")
	s.Preferences = &notifyd.Preferences{
		Digest:       &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"},
		QuietHours:   []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}, {Days: []string{"sat", "sun"}, From: "00:00", To: "24:00"}},
		Throttle:     &notifyd.Throttle{Max: 3, Per: "1h"},
		PausedUntil:  time.Date(2026, 6, 20, 10, 0, 0, 0, time.UTC),
		ChannelOrder: []notifyd.Channel{notifyd.ChannelIM, notifyd.ChannelSMS},
		Channels: map[notifyd.Channel]notifyd.ChannelPreferences{
			notifyd.ChannelSMS: {Digest: &notifyd.Digest{Mode: notifyd.DigestImmediate}, QuietHoursBypass: []notifyd.NotificationType{notifyd.TypeReminder}},
		},
	}
	if err := db.CreateSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Subscription(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Preferences, s.Preferences) {
		t.Fatalf("read back %+v\nwant %+v", got.Preferences, s.Preferences)
	}

	for _, p := range []*notifyd.Preferences{{}, nil} {
		s.Preferences = p
		if err := db.UpdateSubscription(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
		list, err := db.Subscriptions(ctx, notifyd.SubscriptionFilter{Principal: s.Principal})
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v, %d", err, len(list))
		}
		if list[0].Preferences != nil {
			t.Errorf("preferences %+v stored, read back %+v; want nil", p, list[0].Preferences)
		}
	}
}
