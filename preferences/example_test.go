package preferences_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/preferences"
)

// Fred, in Paris, wants no messages between 22:00 and 07:00, updates to
// shared calendars in one email a day at 08:00, and SMS reminders even at
// night when the meeting is close.
func Example() {
	paris, _ := time.LoadLocation("Europe/Paris")
	prefs := &notifyd.Preferences{
		Digest:     &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"},
		QuietHours: []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}},
		Channels: map[notifyd.Channel]notifyd.ChannelPreferences{
			notifyd.ChannelSMS: {QuietHoursBypass: []notifyd.NotificationType{notifyd.TypeReminder}},
		},
	}
	plan, err := preferences.Compile(prefs, paris, preferences.DefaultPolicy())
	if err != nil {
		fmt.Println(err)
		return
	}
	show := func(what string, ch notifyd.Channel, n preferences.Notification, now time.Time) {
		d := plan.Decide(ch, n, 0, now)
		fmt.Printf("%-38s %-6s", what, d.Action)
		if !d.At.IsZero() {
			fmt.Printf(" %s", d.At.In(paris).Format("Mon 15:04"))
		}
		fmt.Printf(" (%s)\n", d.Reason)
	}
	noon := time.Date(2026, 6, 10, 12, 0, 0, 0, paris)
	night := time.Date(2026, 6, 11, 3, 0, 0, 0, paris)
	modified := preferences.Notification{Type: notifyd.TypeEventModified}
	reminder := preferences.Notification{Type: notifyd.TypeReminder, EventStart: night.Add(10 * time.Minute)}

	show("noon, event modified, email", notifyd.ChannelEmail, modified, noon)
	show("noon, sharing invitation, email", notifyd.ChannelEmail, preferences.Notification{Type: notifyd.TypeShareInvite}, noon)
	show("03:00, sharing invitation, email", notifyd.ChannelEmail, preferences.Notification{Type: notifyd.TypeShareInvite}, night)
	show("03:00, event modified, email", notifyd.ChannelEmail, modified, night)
	show("03:00, reminder in 10 minutes, email", notifyd.ChannelEmail, reminder, night)
	show("03:00, reminder in 10 minutes, SMS", notifyd.ChannelSMS, reminder, night)
	// Output:
	// noon, event modified, email            digest Thu 08:00 (digest)
	// noon, sharing invitation, email        send   (always-immediate)
	// 03:00, sharing invitation, email       hold   Thu 07:00 (quiet-hours)
	// 03:00, event modified, email           digest Thu 08:00 (quiet-hours)
	// 03:00, reminder in 10 minutes, email   hold   Thu 07:00 (quiet-hours)
	// 03:00, reminder in 10 minutes, SMS     send   (quiet-hours-bypass)
}

// On the night Paris puts its clocks back, quiet hours from 22:00 to 07:00
// last ten hours, and a daily digest at 08:00 is due at 08:00 local time.
func ExamplePlan_Decide_clockChange() {
	paris, _ := time.LoadLocation("Europe/Paris")
	plan, _ := preferences.Compile(&notifyd.Preferences{
		QuietHours: []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}},
		Channels: map[notifyd.Channel]notifyd.ChannelPreferences{
			notifyd.ChannelEmail: {Digest: &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"}},
		},
	}, paris, preferences.DefaultPolicy())
	now := time.Date(2026, 10, 24, 22, 0, 0, 0, paris)
	n := preferences.Notification{Type: notifyd.TypeCalendarModified}
	sms := plan.Decide(notifyd.ChannelSMS, n, 0, now)
	email := plan.Decide(notifyd.ChannelEmail, n, 0, now)
	fmt.Println("sms:  ", sms.Action, sms.At.In(paris).Format("Mon 15:04 MST"), "after", sms.At.Sub(now))
	fmt.Println("email:", email.Action, email.At.In(paris).Format("Mon 15:04 MST"))
	// Output:
	// sms:   hold Sun 07:00 CET after 10h0m0s
	// email: digest Sun 08:00 CET
}
