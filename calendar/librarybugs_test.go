package calendar

// Tests that pin the bugs and limits of the libraries this package works
// around, at the pinned versions (go.mod). Each fails when an upgrade
// fixes what it pins: then the workaround it names can go.

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

func decodeEvent(t *testing.T, lines ...string) *ical.Component {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(ics(append(append([]string{"BEGIN:VEVENT", "UID:x"}, lines...), "END:VEVENT")...))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	return cal.Children[0]
}

// go-ical's RecurrenceSet ignores RDATE (it reads EXDATE twice; fixed
// upstream in d3d489e, which the module proxy refuses here). Workaround:
// Component.rdates and expandMaster.
func TestGoICalRecurrenceSetIgnoresRDATE(t *testing.T) {
	c := decodeEvent(t, "DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "RDATE:20240201T100000Z")
	set, err := c.RecurrenceSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	if all := set.All(); len(all) != 2 {
		t.Errorf("go-ical's RecurrenceSet now yields %v: RDATE handled upstream?", all)
	}
	x := mustParse(t, ics("BEGIN:VEVENT", "UID:x", "DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=2",
		"RDATE:20240201T100000Z", "END:VEVENT"), nil).Expand(utc("2024-01-01T00:00"), utc("2025-01-01T00:00"), ExpandOptions{})
	wantStarts(t, x, "2024-01-01T10:00", "2024-01-02T10:00", "2024-02-01T10:00")
}

// go-ical's RecurrenceSet fails on a comma-separated EXDATE (it parses the
// whole list as one date-time). Workaround: parser.recurrence splits lists.
func TestGoICalRecurrenceSetCommaEXDATE(t *testing.T) {
	c := decodeEvent(t, "DTSTART:20240101T100000Z", "RRULE:FREQ=DAILY;COUNT=4", "EXDATE:20240102T100000Z,20240103T100000Z")
	if _, err := c.RecurrenceSet(nil); err == nil {
		t.Error("go-ical's RecurrenceSet now reads a comma-separated EXDATE")
	}
}

// go-ical's Decoder panics on some malformed parameters instead of
// returning an error. Workaround: Parse recovers.
func TestGoICalDecoderPanics(t *testing.T) {
	for _, line := range []string{"X-A;P=b", `X-A;P="b"c:d`} {
		data := ics("BEGIN:VEVENT", "UID:x", line, "END:VEVENT")
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			_, _ = ical.NewDecoder(bytes.NewReader(data)).Decode()
			return false
		}()
		if !panicked {
			t.Errorf("%q: go-ical no longer panics", line)
		}
		if _, err := Parse(data, ParseOptions{}); err == nil {
			t.Errorf("%q: Parse accepted it", line)
		}
	}
}

// go-ical reads day durations as 24 hours, not nominal days. Workaround:
// ParseDuration and Duration.AddTo.
func TestGoICalDurationIsExact(t *testing.T) {
	p := ical.NewProp(ical.PropDuration)
	p.Value = "-P1D"
	if d, err := p.Duration(); err != nil || d != -24*time.Hour {
		t.Errorf("go-ical reads -P1D as %v, %v", d, err)
	}
}

// go-ical resolves TZID with time.LoadLocation only: no Windows names, no
// VTIMEZONE (emersion/go-ical#10). Workaround: zones.lookup.
func TestGoICalDateTimeNoWindowsZones(t *testing.T) {
	p := ical.NewProp(ical.PropDateTimeStart)
	p.Value = "20240101T100000"
	p.Params.Set(ical.ParamTimezoneID, "W. Europe Standard Time")
	if _, err := p.DateTime(nil); err == nil {
		t.Error("go-ical now reads Windows zone names")
	}
}

// time.Date, through which rrule-go builds every instance, resolves a
// wall time in a gap or an overlap differently east and west of UTC (its
// documentation promises neither). Workaround: rules expand on a uniform
// wall clock and inZone applies RFC 5545 (TestInZoneGapAndOverlap).
func TestGoTimeDateAmbiguity(t *testing.T) {
	ny, berlin := mustLoad(t, "America/New_York"), mustLoad(t, "Europe/Berlin")
	if got := time.Date(2024, 3, 10, 2, 30, 0, 0, ny).UTC(); !got.Equal(utc("2024-03-10T06:30")) {
		t.Errorf("New York gap: time.Date now gives %v (RFC 5545: 07:30Z)", got)
	}
	if got := time.Date(2024, 10, 27, 2, 30, 0, 0, berlin).UTC(); !got.Equal(utc("2024-10-27T01:30")) {
		t.Errorf("Berlin overlap: time.Date now gives %v (RFC 5545: 00:30Z)", got)
	}
}

// rrule-go reads COUNT=0 as no COUNT: an endless rule. Workaround:
// parseRule marks it as never matching.
func TestRRuleGoCountZero(t *testing.T) {
	opt, err := rrule.StrToROption("FREQ=DAILY;COUNT=0")
	if err != nil {
		t.Fatal(err)
	}
	opt.Dtstart = utc("2024-01-01T10:00")
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Between(opt.Dtstart, opt.Dtstart.AddDate(0, 0, 5), true); len(got) != 6 {
		t.Errorf("rrule-go COUNT=0 now gives %v", got)
	}
}

// rrule-go refuses rules real clients write: lower case, a trailing ";",
// x-name parts. Workaround: parseRule normalises them (TestParseRule).
func TestRRuleGoStrict(t *testing.T) {
	for _, r := range []string{"FREQ=daily", "FREQ=DAILY;", "FREQ=DAILY;X-EVOLUTION-ENDDATE=20240101T000000Z"} {
		if _, err := rrule.StrToROption(r); err == nil {
			t.Errorf("rrule-go now accepts %q", r)
		}
	}
}

// rrule-go, when a rule matches nothing more, searches every period until
// the year 9999 and stops there (Feb 29 of 10000 exists, it does not look).
// Workaround: walls shifts expansions by 400-year cycles so that the
// search after the window is under four centuries.
func TestRRuleGoStopsAtYear9999(t *testing.T) {
	opt, err := rrule.StrToROption("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")
	if err != nil {
		t.Fatal(err)
	}
	opt.Dtstart = time.Date(9997, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	if next, ok := r.Iterator()(); ok {
		t.Errorf("rrule-go now goes past 9999: %v", next)
	}
}

// rrule-go loops forever when a sub-daily rule's INTERVAL never meets its
// BYHOUR (FREQ=HOURLY;INTERVAL=24;BYHOUR=5 from 03:00). Workaround:
// rule.reachable (TestExpandNeverMatching). The loop runs in a child
// process that the test timeout ends; no clock is read here.
func TestRRuleGoHangs(t *testing.T) {
	if os.Getenv("NOTIFYD_RRULE_HANG") == "1" {
		opt, _ := rrule.StrToROption("FREQ=HOURLY;INTERVAL=24;BYHOUR=5")
		opt.Dtstart = utc("2024-01-01T03:00")
		r, _ := rrule.NewRRule(*opt)
		next := r.Iterator()
		next() // DTSTART's period: nothing
		next()
		os.Stdout.WriteString("RRULE-RETURNED\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRRuleGoHangs$", "-test.timeout=300ms", "-test.count=1")
	cmd.Env = append(os.Environ(), "NOTIFYD_RRULE_HANG=1")
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "RRULE-RETURNED") {
		t.Error("rrule-go no longer hangs on an unreachable BYHOUR: rule.reachable can go")
	} else if !strings.Contains(string(out), "test timed out") {
		t.Errorf("child process: %s", out)
	}
}
