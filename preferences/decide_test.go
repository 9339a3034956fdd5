package preferences

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

func loadLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Schedules the tables use.
var (
	nights           = []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}}
	nightsAndWeekend = []notifyd.QuietPeriod{{From: "22:00", To: "07:00"}, {Days: []string{"sat", "sun"}, From: "00:00", To: "24:00"}}
	daily0800        = &notifyd.Digest{Mode: notifyd.DigestDaily, At: "08:00"}
	window15         = &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "15m"}
	modified         = Notification{Type: notifyd.TypeEventModified}
	reminder         = Notification{Type: notifyd.TypeReminder}
)

type decideCase struct {
	name   string
	zone   string
	prefs  *notifyd.Preferences
	ch     notifyd.Channel // default email
	n      Notification
	sent   int
	now    string // RFC 3339, UTC: the local time is in the name
	action Action
	at     string // RFC 3339 UTC; "" for Send
	reason Reason
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zone := tc.zone
			if zone == "" {
				zone = "Europe/Paris"
			}
			plan, err := Compile(tc.prefs, loadLoc(t, zone), DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			ch := tc.ch
			if ch == "" {
				ch = notifyd.ChannelEmail
			}
			now := utc(tc.now)
			got := plan.Decide(ch, tc.n, tc.sent, now)
			want := Decision{Action: tc.action, Reason: tc.reason}
			if tc.at != "" {
				want.At = utc(tc.at)
			}
			if got.Action != want.Action || !got.At.Equal(want.At) || got.Reason != want.Reason {
				t.Errorf("Decide at %s (%s local)\n got %v %s (%s local) %q\nwant %v %s %q",
					now.Format(time.RFC3339), now.In(loadLoc(t, zone)).Format("Mon 15:04 MST"),
					got.Action, got.At.UTC().Format(time.RFC3339), got.At.In(loadLoc(t, zone)).Format("Mon 15:04 MST"), got.Reason,
					want.Action, want.At.UTC().Format(time.RFC3339), want.Reason)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	quiet := &notifyd.Preferences{QuietHours: nights}
	smsBypass := &notifyd.Preferences{QuietHours: nights,
		Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: {QuietHoursBypass: []notifyd.NotificationType{notifyd.TypeReminder}}}}
	throttle := &notifyd.Preferences{Throttle: &notifyd.Throttle{Max: 3, Per: "1h"}}
	late := &notifyd.Preferences{QuietHours: nights, Digest: &notifyd.Digest{Mode: notifyd.DigestDaily, At: "23:00"}}
	runDecide(t, []decideCase{
		// Wednesday 2026-06-10; Paris is UTC+2.
		{name: "no preferences: at once", prefs: nil, n: modified, now: "2026-06-10T01:00:00Z", action: Send},
		{name: "empty preferences: at once", prefs: &notifyd.Preferences{}, n: reminder, now: "2026-06-10T01:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "quiet 22-07, 21:59: sent", prefs: quiet, n: modified, now: "2026-06-10T19:59:00Z", action: Send},
		{name: "quiet 22-07, 22:00: held to 07:00", prefs: quiet, n: modified, now: "2026-06-10T20:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "quiet 22-07, 03:00: held to 07:00", prefs: quiet, n: modified, now: "2026-06-11T01:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "quiet 22-07, 07:00: sent", prefs: quiet, n: modified, now: "2026-06-11T05:00:00Z", action: Send},
		{name: "Friday 23:00, nights and weekend: held to Monday 07:00", prefs: &notifyd.Preferences{QuietHours: nightsAndWeekend}, n: modified,
			now: "2026-06-12T21:00:00Z", action: Hold, at: "2026-06-15T05:00:00Z", reason: ReasonQuietHours},
		{name: "Saturday noon, nights and weekend: held to Monday 07:00", prefs: &notifyd.Preferences{QuietHours: nightsAndWeekend}, n: modified,
			now: "2026-06-13T10:00:00Z", action: Hold, at: "2026-06-15T05:00:00Z", reason: ReasonQuietHours},
		{name: "reminder in quiet hours, by email: held", prefs: smsBypass, n: Notification{Type: notifyd.TypeReminder, Urgent: true},
			now: "2026-06-11T01:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "urgent reminder in quiet hours, by SMS that lets it through: sent", prefs: smsBypass, ch: notifyd.ChannelSMS,
			n: Notification{Type: notifyd.TypeReminder, Urgent: true}, now: "2026-06-11T01:00:00Z", action: Send, reason: ReasonQuietHoursBypass},
		{name: "reminder of a meeting in 10 minutes is urgent", prefs: smsBypass, ch: notifyd.ChannelSMS,
			n: Notification{Type: notifyd.TypeReminder, EventStart: utc("2026-06-11T01:10:00Z")}, now: "2026-06-11T01:00:00Z", action: Send, reason: ReasonQuietHoursBypass},
		{name: "reminder of a meeting in 5 hours is not urgent", prefs: smsBypass, ch: notifyd.ChannelSMS,
			n: Notification{Type: notifyd.TypeReminder, EventStart: utc("2026-06-11T06:00:00Z")}, now: "2026-06-11T01:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "urgent modification, SMS lets only reminders through: held", prefs: smsBypass, ch: notifyd.ChannelSMS,
			n: Notification{Type: notifyd.TypeEventModified, Urgent: true}, now: "2026-06-11T01:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},

		{name: "15-minute digest at 10:07: due 10:15", prefs: &notifyd.Preferences{Digest: window15}, n: modified,
			now: "2026-06-10T08:07:00Z", action: Digest, at: "2026-06-10T08:15:00Z", reason: ReasonDigest},
		{name: "15-minute digest at 10:15 exactly: due 10:30", prefs: &notifyd.Preferences{Digest: window15}, n: modified,
			now: "2026-06-10T08:15:00Z", action: Digest, at: "2026-06-10T08:30:00Z", reason: ReasonDigest},
		{name: "hourly digest in Kolkata (UTC+5:30) at 10:07: due 11:00 local", zone: "Asia/Kolkata",
			prefs: &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "1h"}}, n: modified,
			now: "2026-06-10T04:37:00Z", action: Digest, at: "2026-06-10T05:30:00Z", reason: ReasonDigest},
		{name: "daily digest 08:00, at 12:00: tomorrow 08:00", prefs: &notifyd.Preferences{Digest: daily0800}, n: modified,
			now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonDigest},
		{name: "daily digest 08:00, at 07:59: today 08:00", prefs: &notifyd.Preferences{Digest: daily0800}, n: modified,
			now: "2026-06-10T05:59:00Z", action: Digest, at: "2026-06-10T06:00:00Z", reason: ReasonDigest},
		{name: "daily digest 08:00, at 08:00 exactly: tomorrow", prefs: &notifyd.Preferences{Digest: daily0800}, n: modified,
			now: "2026-06-10T06:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonDigest},
		{name: "digest: reminders stay immediate", prefs: &notifyd.Preferences{Digest: daily0800}, n: reminder,
			now: "2026-06-10T10:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "digest: sharing invitations stay immediate", prefs: &notifyd.Preferences{Digest: daily0800}, n: Notification{Type: notifyd.TypeShareInvite},
			now: "2026-06-10T10:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "digest: meeting invitations stay immediate", prefs: &notifyd.Preferences{Digest: daily0800}, n: Notification{Type: "invitation"},
			now: "2026-06-10T10:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "digest: cancellation of a meeting in 3 hours is immediate", prefs: &notifyd.Preferences{Digest: daily0800},
			n: Notification{Type: "invitation-cancelled", EventStart: utc("2026-06-10T13:00:00Z")}, now: "2026-06-10T10:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "digest: cancellation of a meeting in 3 days waits", prefs: &notifyd.Preferences{Digest: daily0800},
			n: Notification{Type: "invitation-cancelled", EventStart: utc("2026-06-13T10:00:00Z")}, now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonDigest},
		{name: "digest: deleted event starting in 20 hours is immediate", prefs: &notifyd.Preferences{Digest: daily0800},
			n: Notification{Type: notifyd.TypeEventDeleted, EventStart: utc("2026-06-11T06:00:00Z")}, now: "2026-06-10T10:00:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "digest: deleted event with no start waits", prefs: &notifyd.Preferences{Digest: daily0800},
			n: Notification{Type: notifyd.TypeEventDeleted}, now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonDigest},
		{name: "immediate email, daily SMS digest: email sent", prefs: &notifyd.Preferences{
			Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: {Digest: daily0800}}},
			n: modified, now: "2026-06-10T10:00:00Z", action: Send},
		{name: "immediate email, daily SMS digest: SMS waits", prefs: &notifyd.Preferences{
			Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: {Digest: daily0800}}}, ch: notifyd.ChannelSMS,
			n: modified, now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonDigest},
		{name: "daily digest, SMS immediate by override", prefs: &notifyd.Preferences{Digest: daily0800,
			Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: {Digest: &notifyd.Digest{Mode: notifyd.DigestImmediate}}}}, ch: notifyd.ChannelSMS,
			n: modified, now: "2026-06-10T10:00:00Z", action: Send},

		{name: "throttle 3/h, 2 sent: sent", prefs: throttle, n: modified, sent: 2, now: "2026-06-10T10:20:00Z", action: Send},
		{name: "throttle 3/h, 3 sent: into a digest at the end of the hour", prefs: throttle, n: modified, sent: 3,
			now: "2026-06-10T10:20:00Z", action: Digest, at: "2026-06-10T11:00:00Z", reason: ReasonThrottle},
		{name: "throttle 3/h, 3 sent: reminders still go", prefs: throttle, n: reminder, sent: 3, now: "2026-06-10T10:20:00Z", action: Send, reason: ReasonAlwaysImmediate},
		{name: "throttle digest falling in quiet hours: due when they end", prefs: &notifyd.Preferences{QuietHours: nights, Throttle: &notifyd.Throttle{Max: 1, Per: "1h"}},
			n: modified, sent: 1, now: "2026-06-10T19:30:00Z", action: Digest, at: "2026-06-11T05:00:00Z", reason: ReasonThrottle},
		{name: "throttle with a digest: the digest", prefs: &notifyd.Preferences{Digest: window15, Throttle: &notifyd.Throttle{Max: 1, Per: "1h"}},
			n: modified, sent: 5, now: "2026-06-10T10:20:00Z", action: Digest, at: "2026-06-10T10:30:00Z", reason: ReasonDigest},

		{name: "digest at 23:00 in quiet hours: next morning 07:00", prefs: late, n: modified,
			now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-11T05:00:00Z", reason: ReasonDigest},
		{name: "held at 03:00, next digest (23:00) in quiet hours: at 07:00", prefs: late, n: modified,
			now: "2026-06-11T01:00:00Z", action: Digest, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "held at 03:00, daily digest 08:00: 08:00", prefs: &notifyd.Preferences{QuietHours: nights, Digest: daily0800}, n: modified,
			now: "2026-06-11T01:00:00Z", action: Digest, at: "2026-06-11T06:00:00Z", reason: ReasonQuietHours},
		{name: "held at 03:00, 15-minute digest: at 07:00", prefs: &notifyd.Preferences{QuietHours: nights, Digest: window15}, n: modified,
			now: "2026-06-11T01:00:00Z", action: Digest, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},
		{name: "held at 03:00, reminder with a digest: released alone at 07:00", prefs: &notifyd.Preferences{QuietHours: nights, Digest: window15}, n: reminder,
			now: "2026-06-11T01:00:00Z", action: Hold, at: "2026-06-11T05:00:00Z", reason: ReasonQuietHours},

		{name: "paused: held to the pause's end", prefs: &notifyd.Preferences{PausedUntil: utc("2026-06-20T10:00:00Z")}, n: reminder,
			now: "2026-06-10T10:00:00Z", action: Hold, at: "2026-06-20T10:00:00Z", reason: ReasonPaused},
		{name: "paused, urgent SMS reminder: held too", prefs: &notifyd.Preferences{PausedUntil: utc("2026-06-20T10:00:00Z"),
			Channels: map[notifyd.Channel]notifyd.ChannelPreferences{notifyd.ChannelSMS: {QuietHoursBypass: []notifyd.NotificationType{notifyd.TypeReminder}}}},
			ch: notifyd.ChannelSMS, n: Notification{Type: notifyd.TypeReminder, Urgent: true},
			now: "2026-06-10T10:00:00Z", action: Hold, at: "2026-06-20T10:00:00Z", reason: ReasonPaused},
		{name: "pause ending in quiet hours: held to their end", prefs: &notifyd.Preferences{PausedUntil: utc("2026-06-20T00:00:00Z"), QuietHours: nights},
			n: modified, now: "2026-06-10T10:00:00Z", action: Hold, at: "2026-06-20T05:00:00Z", reason: ReasonPaused},
		{name: "paused with a daily digest: the first digest after", prefs: &notifyd.Preferences{PausedUntil: utc("2026-06-20T10:00:00Z"), Digest: daily0800},
			n: modified, now: "2026-06-10T10:00:00Z", action: Digest, at: "2026-06-21T06:00:00Z", reason: ReasonPaused},
		{name: "pause over: sent", prefs: &notifyd.Preferences{PausedUntil: utc("2026-06-10T09:00:00Z")}, n: modified,
			now: "2026-06-10T10:00:00Z", action: Send},
	})
}
