package preferences

import (
	"testing"

	"github.com/notifyd/notifyd"
)

// The clock changes of 2026: Paris goes from 02:00 CET to 03:00 CEST on
// Sunday 29 March (01:00 UTC) and from 03:00 CEST back to 02:00 CET on
// Sunday 25 October (01:00 UTC); New York from 02:00 EST to 03:00 EDT on
// Sunday 8 March (07:00 UTC) and from 02:00 EDT back to 01:00 EST on
// Sunday 1 November (06:00 UTC).
func TestDecideAcrossClockChanges(t *testing.T) {
	quiet := &notifyd.Preferences{QuietHours: nights}
	digest := &notifyd.Preferences{Digest: daily0800}
	period := func(from, to string) *notifyd.Preferences {
		return &notifyd.Preferences{QuietHours: []notifyd.QuietPeriod{{From: from, To: to}}}
	}
	at0230 := &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestDaily, At: "02:30"}}
	ny := "America/New_York"
	runDecide(t, []decideCase{
		// Paris, spring: the night is an hour shorter.
		{name: "Paris spring: 21:59 CET sent", prefs: quiet, n: modified, now: "2026-03-28T20:59:00Z", action: Send},
		{name: "Paris spring: 22:00 CET held to 07:00 CEST", prefs: quiet, n: modified, now: "2026-03-28T21:00:00Z", action: Hold, at: "2026-03-29T05:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: 01:59 CET held to 07:00 CEST", prefs: quiet, n: modified, now: "2026-03-29T00:59:00Z", action: Hold, at: "2026-03-29T05:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: 03:00 CEST held to 07:00 CEST", prefs: quiet, n: modified, now: "2026-03-29T01:00:00Z", action: Hold, at: "2026-03-29T05:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: 07:00 CEST sent", prefs: quiet, n: modified, now: "2026-03-29T05:00:00Z", action: Send},
		{name: "Paris spring: 22:00 CEST the next night held", prefs: quiet, n: modified, now: "2026-03-29T20:00:00Z", action: Hold, at: "2026-03-30T05:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: daily 08:00 digest the day before, due 08:00 CEST", prefs: digest, n: modified, now: "2026-03-28T11:00:00Z", action: Digest, at: "2026-03-29T06:00:00Z", reason: ReasonDigest},
		{name: "Paris spring: daily 08:00 digest on the day, due the next 08:00 CEST", prefs: digest, n: modified, now: "2026-03-29T06:30:00Z", action: Digest, at: "2026-03-30T06:00:00Z", reason: ReasonDigest},
		{name: "Paris spring: 02:30-05:00 starts at the jump (01:59 CET sent)", prefs: period("02:30", "05:00"), n: modified, now: "2026-03-29T00:59:00Z", action: Send},
		{name: "Paris spring: 02:30-05:00 starts at the jump (03:00 CEST held)", prefs: period("02:30", "05:00"), n: modified, now: "2026-03-29T01:00:00Z", action: Hold, at: "2026-03-29T03:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: 23:00-02:30 ends at the jump", prefs: period("23:00", "02:30"), n: modified, now: "2026-03-29T00:30:00Z", action: Hold, at: "2026-03-29T01:00:00Z", reason: ReasonQuietHours},
		{name: "Paris spring: 23:00-02:30, 03:00 CEST sent", prefs: period("23:00", "02:30"), n: modified, now: "2026-03-29T01:00:00Z", action: Send},
		{name: "Paris spring: 02:00-02:59 never happens", prefs: period("02:00", "02:59"), n: modified, now: "2026-03-29T01:00:00Z", action: Send},
		{name: "Paris spring: daily digest at 02:30 due at the jump", prefs: at0230, n: modified, now: "2026-03-28T11:00:00Z", action: Digest, at: "2026-03-29T01:00:00Z", reason: ReasonDigest},

		// Paris, autumn: the night is an hour longer.
		{name: "Paris autumn: 22:00 CEST held to 07:00 CET", prefs: quiet, n: modified, now: "2026-10-24T20:00:00Z", action: Hold, at: "2026-10-25T06:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 02:30 CEST (first) held to 07:00 CET", prefs: quiet, n: modified, now: "2026-10-25T00:30:00Z", action: Hold, at: "2026-10-25T06:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 02:30 CET (second) held to 07:00 CET", prefs: quiet, n: modified, now: "2026-10-25T01:30:00Z", action: Hold, at: "2026-10-25T06:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 06:59 CET held one minute", prefs: quiet, n: modified, now: "2026-10-25T05:59:00Z", action: Hold, at: "2026-10-25T06:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 07:00 CET sent", prefs: quiet, n: modified, now: "2026-10-25T06:00:00Z", action: Send},
		{name: "Paris autumn: daily 08:00 digest the day before, due 08:00 CET", prefs: digest, n: modified, now: "2026-10-24T10:00:00Z", action: Digest, at: "2026-10-25T07:00:00Z", reason: ReasonDigest},
		{name: "Paris autumn: 23:00-02:30 ends the first time 02:30 shows", prefs: period("23:00", "02:30"), n: modified, now: "2026-10-24T22:30:00Z", action: Hold, at: "2026-10-25T00:30:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 23:00-02:30, 02:10 CET (second) sent", prefs: period("23:00", "02:30"), n: modified, now: "2026-10-25T01:10:00Z", action: Send},
		{name: "Paris autumn: 02:30-05:00, 02:20 CEST (first) sent", prefs: period("02:30", "05:00"), n: modified, now: "2026-10-25T00:20:00Z", action: Send},
		{name: "Paris autumn: 02:30-05:00, 02:45 CEST held to 05:00 CET", prefs: period("02:30", "05:00"), n: modified, now: "2026-10-25T00:45:00Z", action: Hold, at: "2026-10-25T04:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: 02:30-05:00, 02:10 CET (second) held to 05:00 CET", prefs: period("02:30", "05:00"), n: modified, now: "2026-10-25T01:10:00Z", action: Hold, at: "2026-10-25T04:00:00Z", reason: ReasonQuietHours},
		{name: "Paris autumn: daily digest at 02:30 due the first time", prefs: at0230, n: modified, now: "2026-10-24T10:00:00Z", action: Digest, at: "2026-10-25T00:30:00Z", reason: ReasonDigest},
		{name: "Paris autumn: daily digest at 02:30, after the first: the next day", prefs: at0230, n: modified, now: "2026-10-25T00:45:00Z", action: Digest, at: "2026-10-26T01:30:00Z", reason: ReasonDigest},

		// New York.
		{name: "New York spring: 23:00 EST held to 07:00 EDT", zone: ny, prefs: quiet, n: modified, now: "2026-03-08T04:00:00Z", action: Hold, at: "2026-03-08T11:00:00Z", reason: ReasonQuietHours},
		{name: "New York spring: 03:30 EDT held to 07:00 EDT", zone: ny, prefs: quiet, n: modified, now: "2026-03-08T07:30:00Z", action: Hold, at: "2026-03-08T11:00:00Z", reason: ReasonQuietHours},
		{name: "New York spring: daily 08:00 digest due 08:00 EDT", zone: ny, prefs: digest, n: modified, now: "2026-03-07T17:00:00Z", action: Digest, at: "2026-03-08T12:00:00Z", reason: ReasonDigest},
		{name: "New York spring: 02:15-02:45 never happens", zone: ny, prefs: period("02:15", "02:45"), n: modified, now: "2026-03-08T07:00:00Z", action: Send},
		{name: "New York spring: 01:30-02:30 ends at the jump", zone: ny, prefs: period("01:30", "02:30"), n: modified, now: "2026-03-08T06:45:00Z", action: Hold, at: "2026-03-08T07:00:00Z", reason: ReasonQuietHours},
		{name: "New York autumn: 23:00 EDT held to 07:00 EST", zone: ny, prefs: quiet, n: modified, now: "2026-11-01T03:00:00Z", action: Hold, at: "2026-11-01T12:00:00Z", reason: ReasonQuietHours},
		{name: "New York autumn: 01:30 EST (second) held to 07:00 EST", zone: ny, prefs: quiet, n: modified, now: "2026-11-01T06:30:00Z", action: Hold, at: "2026-11-01T12:00:00Z", reason: ReasonQuietHours},
		{name: "New York autumn: daily 08:00 digest due 08:00 EST", zone: ny, prefs: digest, n: modified, now: "2026-10-31T16:00:00Z", action: Digest, at: "2026-11-01T13:00:00Z", reason: ReasonDigest},
		{name: "New York autumn: 01:00-01:30 ends the first time 01:30 shows", zone: ny, prefs: period("01:00", "01:30"), n: modified, now: "2026-11-01T05:10:00Z", action: Hold, at: "2026-11-01T05:30:00Z", reason: ReasonQuietHours},
		{name: "New York autumn: 01:00-01:30, 01:10 EST (second) sent", zone: ny, prefs: period("01:00", "01:30"), n: modified, now: "2026-11-01T06:10:00Z", action: Send},
		{name: "New York autumn: hourly digest at 01:20 EST due 02:00 EST", zone: ny, prefs: &notifyd.Preferences{Digest: &notifyd.Digest{Mode: notifyd.DigestWindow, Window: "1h"}},
			n: modified, now: "2026-11-01T06:20:00Z", action: Digest, at: "2026-11-01T07:00:00Z", reason: ReasonDigest},
	})
}
