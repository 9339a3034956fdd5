package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// addressDAV is calendarDAV whose principal has calendar user addresses.
type addressDAV struct {
	*calendarDAV
	amu   sync.Mutex
	addrs []string
}

func (a *addressDAV) CalendarUserAddresses(context.Context, string) ([]string, error) {
	a.amu.Lock()
	defer a.amu.Unlock()
	return slices.Clone(a.addrs), nil
}

func (a *addressDAV) setAddresses(addrs ...string) {
	a.amu.Lock()
	a.addrs = addrs
	a.amu.Unlock()
}

// newAddressRig is newReminderRig with a server that names addrs as the
// principal's (wilma's) calendar user addresses.
func newAddressRig(t *testing.T, addrs ...string) (*rig, *addressDAV) {
	var dav *addressDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		dav = &addressDAV{calendarDAV: &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}, addrs: addrs}
		o.Systems[0].CalDAV = dav
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, principal, "wilma@example.org")
	return r, dav
}

// putDeclined stores a daily meeting (three days) starting at start, with
// a DISPLAY alarm 15 minutes before and an EMAIL alarm 10 minutes before
// to boss only; wilma accepted it, and declined its second day.
func (a *addressDAV) putDeclined(href string, start time.Time) {
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	alarms := "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n" +
		"BEGIN:VALARM\r\nACTION:EMAIL\r\nSUMMARY:Meeting\r\nDESCRIPTION:Meeting\r\nTRIGGER:-PT10M\r\nATTENDEE:mailto:boss@example.org\r\nEND:VALARM\r\n"
	people := func(partstat string) string {
		return "ORGANIZER:mailto:boss@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.org\r\n" +
			"ATTENDEE;PARTSTAT=" + partstat + ":mailto:wilma@example.org\r\n"
	}
	second := start.Add(24 * time.Hour)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + href + "\r\nDTSTAMP:20261206T000000Z\r\nDTSTART:" + stamp(start) + "\r\nDURATION:PT1H\r\n" +
		"RRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Meeting\r\n" + people("ACCEPTED") + alarms + "END:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:" + href + "\r\nDTSTAMP:20261206T000000Z\r\nRECURRENCE-ID:" + stamp(second) + "\r\n" +
		"DTSTART:" + stamp(second) + "\r\nDURATION:PT1H\r\nSUMMARY:Meeting\r\n" + people("DECLINED") + alarms + "END:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	a.etags++
	if a.objects == nil {
		a.objects = map[string]calendarObject{}
	}
	a.objects[href] = calendarObject{data: ics, etag: fmt.Sprintf(`"%d"`, a.etags)}
}

// reminderRings lists the stored reminders as "DAY ACTION STATE[ REASON]"
// in trigger order (DAY 1 is start's), for the meeting starting at start.
func (r *rig) reminderRings(t *testing.T, start time.Time) []string {
	t.Helper()
	rs, err := r.db.Reminders(context.Background(), store.ReminderFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rec := range rs {
		day := int(rec.TriggerAt.Sub(start.Add(-time.Hour)).Hours()/24) + 1
		what := "DISPLAY"
		if rec.TriggerAt.Equal(start.Add(time.Duration(day-1)*24*time.Hour - 10*time.Minute)) {
			what = "EMAIL"
		}
		s := fmt.Sprintf("day %d %s %s", day, what, rec.State)
		if rec.Reason != "" {
			s += " " + rec.Reason
		}
		out = append(out, s)
	}
	return out
}

// The day wilma declined does not ring, and says why; the other days do.
// An EMAIL alarm addressed to someone else only does not ring either.
func TestDeclinedInstanceDoesNotRing(t *testing.T) {
	t.Parallel()
	r, dav := newAddressRig(t, "MAILTO:Wilma@Example.ORG", "urn:uuid:wilma")
	start := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	dav.putDeclined("m.ics", start)
	r.syncCalendars(t)
	want := []string{"day 1 DISPLAY scheduled", "day 1 EMAIL skipped other-recipients",
		"day 2 DISPLAY skipped declined", "day 2 EMAIL skipped declined"}
	if got := r.reminderRings(t, start); !slices.Equal(got, want) {
		t.Errorf("reminders\n%q\nwant\n%q", got, want)
	}
	addrs, known, err := r.db.CalendarUserAddresses(context.Background(), "cal", principal)
	if err != nil || !known || !slices.Equal(addrs, []string{"MAILTO:Wilma@Example.ORG", "urn:uuid:wilma"}) {
		t.Errorf("stored addresses %q, %v, %v", addrs, known, err)
	}
}

// When the server names new addresses, the instances already scheduled
// are worked out again from the stored data, with no change to the
// event: the declined day is skipped; named no more, it rings again.
func TestNewAddressesRecomputeReminders(t *testing.T) {
	t.Parallel()
	r, dav := newAddressRig(t)
	start := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	dav.putDeclined("m.ics", start)
	r.syncCalendars(t)
	all := []string{"day 1 DISPLAY scheduled", "day 1 EMAIL scheduled", "day 2 DISPLAY scheduled", "day 2 EMAIL scheduled"}
	if got := r.reminderRings(t, start); !slices.Equal(got, all) {
		t.Fatalf("with no addresses known\n%q\nwant\n%q", got, all)
	}

	dav.setAddresses("mailto:wilma@example.org")
	r.syncCalendars(t)
	want := []string{"day 1 DISPLAY scheduled", "day 1 EMAIL skipped other-recipients",
		"day 2 DISPLAY skipped declined", "day 2 EMAIL skipped declined"}
	if got := r.reminderRings(t, start); !slices.Equal(got, want) {
		t.Errorf("after the server named wilma's address\n%q\nwant\n%q", got, want)
	}

	jobs := len(r.jobs(t, "fire_reminder"))
	dav.setAddresses()
	r.syncCalendars(t)
	if got := r.reminderRings(t, start); !slices.Equal(got, all) {
		t.Errorf("after the server named no address\n%q\nwant\n%q", got, all)
	}
	if n := len(r.jobs(t, "fire_reminder")) - jobs; n != 3 {
		t.Errorf("%d reminder jobs queued for the 3 instances scheduled again, want 3", n)
	}
}
