package preferences

import (
	"reflect"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

func TestValidate(t *testing.T) {
	now := utc("2026-06-10T10:00:00Z")
	sms := func(cp notifyd.ChannelPreferences) *notifyd.Preferences {
		return &notifyd.Preferences{Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: cp}}
	}
	everyDay := make([]notifyd.QuietPeriod, 7)
	for i, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		everyDay[i] = notifyd.QuietPeriod{Days: []string{d}, From: "00:00", To: "24:00"}
	}
	tests := []struct {
		name   string
		prefs  *notifyd.Preferences
		fields []string
	}{
		{"nil", nil, nil},
		{"everything valid", &notifyd.Preferences{Digest: window15, QuietHours: nightsAndWeekend, Throttle: &notifyd.Throttle{Max: 3, Per: "1h"},
			PausedUntil: now.Add(time.Hour), ChannelOrder: []notifyd.Channel{"im", "sms"},
			Channels: map[notifyd.Channel]notifyd.ChannelPreferences{"sms": {Digest: daily0800, QuietHoursBypass: []notifyd.NotificationType{"reminder"}}}}, nil},
		{"window not a duration", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window", Window: "fortnight"}}, []string{"/digest/window"}},
		{"window missing", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window"}}, []string{"/digest/window"}},
		{"window 7m does not divide a day", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window", Window: "7m"}}, []string{"/digest/window"}},
		{"window 30s", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window", Window: "30s"}}, []string{"/digest/window"}},
		{"window 48h", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window", Window: "48h"}}, []string{"/digest/window"}},
		{"window with mode daily", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "daily", At: "08:00", Window: "1h"}}, []string{"/digest/window"}},
		{"daily at 25:00", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "daily", At: "25:00"}}, []string{"/digest/at"}},
		{"daily at 24:00", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "daily", At: "24:00"}}, []string{"/digest/at"}},
		{"daily at 8am", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "daily", At: "8am"}}, []string{"/digest/at"}},
		{"daily without at", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "daily"}}, []string{"/digest/at"}},
		{"unknown mode", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "weekly"}}, []string{"/digest/mode"}},
		{"quiet from 22:60", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{From: "22:60", To: "07:00"}}}, []string{"/quiet_hours/0/from"}},
		{"quiet to 7:00", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{From: "22:00", To: "7:00"}}}, []string{"/quiet_hours/0/to"}},
		{"quiet from 24:00", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{From: "24:00", To: "07:00"}}}, []string{"/quiet_hours/0/from"}},
		{"quiet empty period", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{From: "22:00", To: "22:00"}}}, []string{"/quiet_hours/0/to"}},
		{"quiet unknown day", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{Days: []string{"mon", "funday"}, From: "22:00", To: "07:00"}}}, []string{"/quiet_hours/0/days/1"}},
		{"quiet day twice", &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{Days: []string{"sat", "sat"}, From: "22:00", To: "07:00"}}}, []string{"/quiet_hours/0/days/1"}},
		{"quiet all week", &notifyd.Preferences{QuietHours: everyDay}, []string{"/quiet_hours"}},
		{"quiet all but 3 hours on Monday", &notifyd.Preferences{QuietHours: allBut("12:00")}, []string{"/quiet_hours"}},
		{"quiet all but 4 hours on Monday", &notifyd.Preferences{QuietHours: allBut("13:00")}, nil},
		{"throttle 0", &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: 0, Per: "1h"}}, []string{"/throttle/max"}},
		{"throttle negative", &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: -2, Per: "1h"}}, []string{"/throttle/max"}},
		{"throttle per not a duration", &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: 3, Per: "hourly"}}, []string{"/throttle/per"}},
		{"pause in the past", &notifyd.Preferences{PausedUntil: now.Add(-time.Second)}, []string{"/paused_until"}},
		{"pause now", &notifyd.Preferences{PausedUntil: now}, []string{"/paused_until"}},
		{"pause in two years", &notifyd.Preferences{PausedUntil: now.AddDate(2, 0, 0)}, []string{"/paused_until"}},
		{"channel order unknown", &notifyd.Preferences{ChannelOrder: []notifyd.Channel{"im", "pigeon"}}, []string{"/channel_order/1"}},
		{"channel order twice", &notifyd.Preferences{ChannelOrder: []notifyd.Channel{"im", "sms", "im"}}, []string{"/channel_order/2"}},
		{"unknown channel", &notifyd.Preferences{Channels: map[notifyd.Channel]notifyd.ChannelPreferences{"fax": {}}}, []string{"/channels/fax"}},
		{"sms window bad", sms(notifyd.ChannelPreferences{Digest: &notifyd.Digest{Mode: "window", Window: "soon"}}), []string{"/channels/sms/digest/window"}},
		{"sms throttle 0", sms(notifyd.ChannelPreferences{Throttle: &notifyd.Throttle{Max: 0, Per: "1h"}}), []string{"/channels/sms/throttle/max"}},
		{"sms bypass unknown type", sms(notifyd.ChannelPreferences{QuietHoursBypass: []notifyd.NotificationType{"reminder", "party"}}), []string{"/channels/sms/quiet_hours_bypass/1"}},
		{"every error at once", &notifyd.Preferences{Digest: &notifyd.Digest{Mode: "window", Window: "x"}, Throttle: &notifyd.Throttle{Max: 0, Per: "1h"},
			QuietHours: []notifyd.QuietPeriod{{From: "x", To: "07:00"}}, PausedUntil: now.Add(-time.Hour)},
			[]string{"/digest/window", "/throttle/max", "/quiet_hours/0/from", "/paused_until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.prefs, now)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
				if e.Detail == "" {
					t.Errorf("%s without detail", e.Field)
				}
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields %q, want %q (%v)", fields, tt.fields, errs)
			}
			if _, err := Compile(tt.prefs, time.UTC, DefaultPolicy()); (err != nil) != (len(tt.fields) > 0 && tt.fields[0] != "/paused_until") {
				t.Errorf("Compile: %v", err)
			}
		})
	}
}

// allBut is quiet hours all week but on Monday from 09:00 to end.
func allBut(end string) []notifyd.QuietPeriod {
	return []notifyd.QuietPeriod{{Days: []string{"tue", "wed", "thu", "fri", "sat", "sun"}, From: "00:00", To: "24:00"},
		{Days: []string{"mon"}, From: "00:00", To: "09:00"}, {Days: []string{"mon"}, From: end, To: "24:00"}}
}

func TestChain(t *testing.T) {
	email := notifyd.DeliveryMethod{ID: "e", Channel: notifyd.ChannelEmail}
	sms := notifyd.DeliveryMethod{ID: "s", Channel: notifyd.ChannelSMS}
	im := notifyd.DeliveryMethod{ID: "i", Channel: notifyd.ChannelIM}
	hook := notifyd.DeliveryMethod{ID: "w", Channel: notifyd.ChannelWebhook}
	all := []notifyd.DeliveryMethod{email, sms, im, hook}
	ids := func(ms []notifyd.DeliveryMethod) string {
		s := ""
		for _, m := range ms {
			s += m.ID
		}
		return s
	}
	for _, tt := range []struct {
		prefs       *notifyd.Preferences
		chain, rest string
	}{
		{nil, "", "esiw"},
		{&notifyd.Preferences{}, "", "esiw"},
		{&notifyd.Preferences{ChannelOrder: []notifyd.Channel{"im", "sms"}}, "is", "ew"},
		{&notifyd.Preferences{ChannelOrder: []notifyd.Channel{"im", "sms", "email"}}, "ise", "w"},
	} {
		chain, rest := Chain(tt.prefs, all)
		if ids(chain) != tt.chain || ids(rest) != tt.rest {
			t.Errorf("Chain(%v) = %q, %q; want %q, %q", tt.prefs, ids(chain), ids(rest), tt.chain, tt.rest)
		}
	}
}
