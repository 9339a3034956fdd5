package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// shiftZone writes, with zic, a time zone Test/Shift whose clocks go
// forward one hour at jump, from 06:00 to 07:00 local time, and returns the
// directory to give notifyd as ZONEINFO. The real clock changes are months
// away; this one happens while the test runs, so the real binary meets it.
func shiftZone(t *testing.T, jump time.Time) string {
	t.Helper()
	zic, err := exec.LookPath("zic")
	if err != nil {
		zic = "/usr/sbin/zic" // Debian's libc-bin, outside a user's PATH
	}
	// The standard offset that makes jump 06:00 local, within ±12 hours.
	day := jump.Sub(jump.Truncate(24 * time.Hour))
	std := (6*time.Hour - day + 48*time.Hour) % (24 * time.Hour)
	if std > 12*time.Hour {
		std -= 24 * time.Hour
	}
	offset := func(d time.Duration) string {
		sign := ""
		if d < 0 {
			sign, d = "-", -d
		}
		return fmt.Sprintf("%s%d:%02d", sign, int(d.Hours()), int(d.Minutes())%60)
	}
	src := fmt.Sprintf("Zone\tTest/Shift\t%s\t-\tTSS\t%s\n\t\t\t%s\t-\tTSD\n",
		offset(std), jump.UTC().Format("2006 Jan 2 15:04u"), offset(std+time.Hour))
	dir := t.TempDir()
	file := filepath.Join(dir, "shift.zic")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	zones := filepath.Join(dir, "zoneinfo")
	if out, err := exec.Command(zic, "-d", zones, file).CombinedOutput(); err != nil {
		t.Fatalf("zic (Debian's libc-bin) could not write the test zone: %v\n%s%s", err, out, src)
	}
	return zones
}

// Wilma's quiet hours are 22:00–07:00 in a zone whose clocks go forward
// from 06:00 to 07:00 a few minutes from now (the night of a spring clock
// change, brought to today). A calendar change published meanwhile is
// held until the jump, the first instant the clock shows 07:00, not an
// hour later; an urgent reminder passes quiet hours by email because her
// email method lets reminders through; notifyd is killed (SIGKILL) while
// the change is held and started again; the change's email arrives once,
// at the jump.
func TestQuietHoursEndAtTheClockChange(t *testing.T) {
	t.Parallel()
	jump := time.Now().Add(150 * time.Second).Truncate(time.Minute).Add(time.Minute) // 2.5 to 3.5 minutes ahead
	w := newPublishWorld(t, "ZONEINFO="+shiftZone(t, jump), "NOTIFYD_REMINDERS_ENABLED=false")
	nd := w.nd
	code, body := nd.api(t, http.MethodPatch, "/v1/subscriptions/"+wilmasSubscription(t, nd), map[string]any{
		"time_zone": "Test/Shift",
		"preferences": map[string]any{
			"quiet_hours": []any{map[string]any{"from": "22:00", "to": "07:00"}},
			"channels":    map[string]any{"email": map[string]any{"quiet_hours_bypass": []string{"reminder"}}},
		}})
	if code != http.StatusOK {
		t.Fatalf("wilma's quiet hours: %d %v", code, body)
	}

	// The alarm of an event starting in 15 minutes: urgent, it goes now.
	alarm := map[string]any{
		"topic":        "enp:///ics/alarms?calid=%2Fcalendars%2Fwilma%2Fwork%2F&uid=standup-1&aid=alarm-1&comptype=event",
		"principal":    wilmaPrincipal,
		"content_type": "text/calendar",
		"payload":      alarmICS("standup-1", "Standup"),
	}
	if code, body := w.publish(t, alarm); code != http.StatusAccepted {
		t.Fatalf("alarm: %d %v", code, body)
	}
	if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
		"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
		"payload": alarmICS("planning-1", "Planning")}); code != http.StatusAccepted {
		t.Fatalf("event-create: %d %v", code, body)
	}
	msgs := w.sink.Await(t, time.Minute, "the reminder's email during quiet hours", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	if !strings.Contains(mailSubject(msgs[0]), "Standup") {
		t.Fatalf("during quiet hours, got %q; want only the reminder of Standup", mailSubject(msgs[0]))
	}

	var held map[string]any
	waitFor(t, time.Minute, "the new event's delivery held", func() bool {
		code, body := nd.api(t, http.MethodGet, "/v1/deliveries?status=held&principal="+url.QueryEscape(wilmaPrincipal), nil)
		items, _ := body["items"].([]any)
		if code != http.StatusOK || len(items) != 1 {
			return false
		}
		held = items[0].(map[string]any)
		return true
	})
	release, err := time.Parse(time.RFC3339Nano, fmt.Sprint(held["release_at"]))
	if err != nil || !release.Equal(jump) || held["held_reason"] != "quiet-hours" {
		t.Fatalf("held %v; want quiet-hours until the jump to 07:00 at %v (an hour later would be %v)",
			held, jump, jump.Add(time.Hour))
	}

	nd.kill()
	if time.Now().After(jump) {
		t.Fatalf("the machine took until after the clock change to get here (%v): the SIGKILL was not while held", jump)
	}
	if n := len(w.sink.Messages(t)); n != 1 {
		t.Fatalf("%d emails during quiet hours, want the reminder alone", n)
	}
	nd.start()
	w.sink.Await(t, 5*time.Minute, "the new event's email at the clock change", func(m []peertest.ReceivedMessage) bool { return len(m) >= 2 })
	if arrived := time.Now(); arrived.Before(jump) {
		t.Fatalf("the email arrived at %v, before quiet hours end at %v", arrived, jump)
	}
	waitIdle(t, nd, time.Minute)
	msgs = w.sink.Messages(t)
	if len(msgs) != 2 || !strings.Contains(mailSubject(msgs[1]), "Planning") {
		t.Fatalf("%d emails (%v), want the reminder then Planning, once each", len(msgs), subjects(msgs))
	}
}

// wilmasSubscription returns the ID of wilma's one subscription.
func wilmasSubscription(t *testing.T, nd *instance) string {
	t.Helper()
	code, body := nd.api(t, http.MethodGet, "/v1/subscriptions?principal="+url.QueryEscape(wilmaPrincipal), nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("wilma's subscriptions: %d %v", code, body)
	}
	return fmt.Sprint(items[0].(map[string]any)["id"])
}
