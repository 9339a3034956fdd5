package preferences

import (
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// fuzzZones have clock changes of an hour both ways (Paris, New York,
// Sydney), of half an hour (Lord Howe), none (Kolkata), and UTC.
var fuzzZones = []string{"Europe/Paris", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"}

var fuzzPeriods = []string{"1m", "5m", "15m", "30m", "1h", "2h", "3h", "8h", "12h", "24h"}

// FuzzDecide checks, for any valid preferences, zone and time, that a
// decision never releases before now, releases within 8 days (or 8 days
// after a pause ends), never at a time inside quiet hours, and that Send
// carries no time.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), int64(1774731600), []byte{3, 0x7f, 22, 0, 7, 0}, uint8(2), uint8(8), uint8(0), uint8(3), uint8(4), uint8(1), int64(0), int64(0), false)
	f.Add(uint8(1), int64(1793509200), []byte{0x60, 0, 0, 24, 0, 0x3e, 22, 30, 6, 45}, uint8(1), uint8(3), uint8(30), uint8(2), uint8(1), uint8(0), int64(600), int64(86400), true)
	f.Add(uint8(3), int64(1775923200), []byte{0x7f, 2, 0, 2, 30}, uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(5), int64(-60), int64(3600), false)
	zones := make([]*time.Location, len(fuzzZones))
	for i, z := range fuzzZones {
		zones[i] = loadLoc(f, z)
	}
	types := append([]notifyd.NotificationType{"invitation", "invitation-cancelled"}, notifyd.NotificationTypes...)
	f.Fuzz(func(t *testing.T, zone uint8, unix int64, quiet []byte, digestMode, digestArg, at uint8,
		throttleMax, throttlePer uint8, sent uint8, eventIn, pauseIn int64, urgent bool) {
		loc := zones[int(zone)%len(zones)]
		now := time.Unix(2e9+unix%(5e8), 0) // 2033 ± 16 years
		p := &notifyd.Preferences{}
		switch digestMode % 3 {
		case 1:
			p.Digest = &notifyd.Digest{Mode: notifyd.DigestWindow, Window: fuzzPeriods[int(digestArg)%len(fuzzPeriods)]}
		case 2:
			p.Digest = &notifyd.Digest{Mode: notifyd.DigestDaily, At: fmt.Sprintf("%02d:%02d", digestArg%24, at%60)}
		}
		for i := 0; i+4 < len(quiet) && len(p.QuietHours) < MaxQuietPeriods; i += 5 {
			q := notifyd.QuietPeriod{From: fmt.Sprintf("%02d:%02d", quiet[i+1]%24, quiet[i+2]%60), To: fmt.Sprintf("%02d:%02d", quiet[i+3]%25, quiet[i+4]%60)}
			for d, name := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
				if quiet[i]&(1<<d) != 0 {
					q.Days = append(q.Days, name)
				}
			}
			p.QuietHours = append(p.QuietHours, q)
		}
		if throttleMax > 0 {
			p.Throttle = &notifyd.Throttle{Max: int(throttleMax % 20), Per: fuzzPeriods[int(throttlePer)%len(fuzzPeriods)]}
		}
		if pauseIn != 0 {
			p.PausedUntil = now.Add(time.Duration(pauseIn%(400*86400)) * time.Second)
		}
		plan, err := Compile(p, loc, DefaultPolicy())
		if err != nil {
			return // Validate refuses these
		}
		n := Notification{Type: types[int(sent)%len(types)], Urgent: urgent}
		if eventIn != 0 {
			n.EventStart = now.Add(time.Duration(eventIn%(30*86400)) * time.Second)
		}
		for _, ch := range notifyd.Channels {
			d := plan.Decide(ch, n, int(sent%8), now)
			limit := now.Add(8 * 24 * time.Hour)
			if now.Before(p.PausedUntil) {
				limit = p.PausedUntil.Add(8 * 24 * time.Hour)
			}
			switch {
			case d.Action == Send && !d.At.IsZero():
				t.Fatalf("%s: send with a time %v", ch, d)
			case d.Action == Send:
			case d.At.Before(now):
				t.Fatalf("%s: %v at %v, before now %v (%s) with %+v", ch, d.Action, d.At, now, loc, p)
			case d.At.After(limit):
				t.Fatalf("%s: %v at %v, after %v (now %v, %s) with %+v", ch, d.Action, d.At, limit, now, loc, p)
			case plan.quietNow(d.At):
				t.Fatalf("%s: %v at %v, inside quiet hours (now %v, %s) with %+v", ch, d.Action, d.At, now, loc, p)
			}
		}
	})
}
