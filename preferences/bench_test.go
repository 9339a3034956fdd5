package preferences

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// BenchmarkDecide is the cost of a decision with every preference set:
// nights and weekends quiet, a daily digest, an SMS throttle, in Paris.
// The budget is 5% of the CPU a notification costs end to end
// (the CalDAVToEmail bench, about 500 µs), so well under 25 µs.
func BenchmarkDecide(b *testing.B) {
	plan, err := Compile(&notifyd.Preferences{
		Digest:     daily0800,
		QuietHours: nightsAndWeekend,
		Throttle:   &notifyd.Throttle{Max: 3, Per: "1h"},
		Channels: map[notifyd.Channel]notifyd.ChannelPreferences{
			notifyd.ChannelSMS: {Digest: &notifyd.Digest{Mode: notifyd.DigestImmediate}, QuietHoursBypass: []notifyd.NotificationType{notifyd.TypeReminder}},
		},
	}, loadLoc(b, "Europe/Paris"), DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		ch   notifyd.Channel
		n    Notification
		now  time.Time
	}{
		{"weekday digest", notifyd.ChannelEmail, modified, utc("2026-06-10T10:00:00Z")},
		{"weekend held", notifyd.ChannelEmail, modified, utc("2026-06-13T10:00:00Z")},
		{"throttled sms", notifyd.ChannelSMS, modified, utc("2026-06-10T10:00:00Z")},
		{"reminder", notifyd.ChannelSMS, reminder, utc("2026-06-11T01:00:00Z")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				plan.Decide(c.ch, c.n, 5, c.now)
			}
		})
	}
	b.Run("none", func(b *testing.B) {
		plan, _ := Compile(nil, loadLoc(b, "Europe/Paris"), DefaultPolicy())
		b.ReportAllocs()
		for b.Loop() {
			plan.Decide(notifyd.ChannelEmail, modified, 0, cases[0].now)
		}
	})
}

// BenchmarkCompile is the cost of readying a subscription's preferences,
// once per subscription version.
func BenchmarkCompile(b *testing.B) {
	p := &notifyd.Preferences{Digest: daily0800, QuietHours: nightsAndWeekend, Throttle: &notifyd.Throttle{Max: 3, Per: "1h"}}
	loc := loadLoc(b, "Europe/Paris")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(p, loc, DefaultPolicy()); err != nil {
			b.Fatal(err)
		}
	}
}
