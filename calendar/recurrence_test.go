package calendar

import (
	"slices"
	"testing"
	"time"
)

// Recurrence shows what Parse read, and Rule.String is the same for
// rules written in another order or case.
func TestRecurrence(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	obj := mustParse(t, ics("BEGIN:VEVENT", "UID:r", "DTSTART;TZID=Europe/Berlin:20240102T100000",
		"RRULE:FREQ=MONTHLY;BYDAY=-1FR,2mo;UNTIL=20241231T235959;INTERVAL=2;WKST=SU",
		"RDATE;TZID=Europe/Berlin:20240105T100000,20240104T100000",
		"RDATE;VALUE=PERIOD:20240201T090000Z/PT2H",
		"EXDATE;TZID=Europe/Berlin:20240301T100000", "EXDATE;VALUE=DATE:20240202", "EXDATE:20240301T090000Z",
		"END:VEVENT"), berlin)
	rec := obj.Master.Recurrence()
	if len(rec.Rules) != 1 {
		t.Fatalf("rules %+v", rec.Rules)
	}
	r := rec.Rules[0]
	want := "FREQ=MONTHLY;INTERVAL=2;UNTIL=20241231T225959Z;BYDAY=-1FR,2MO;WKST=SU"
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !r.Until.Floating || r.Until.Location().String() != "Europe/Berlin" || !slices.Contains(r.ByDay, WeekdayNum{Nth: 2, Day: time.Monday}) {
		t.Errorf("rule %+v", r)
	}
	var rdates []string
	for _, rd := range rec.RDates {
		rdates = append(rdates, rd.At.ID()+"/"+rd.End.ID())
	}
	if want := []string{"20240104T090000Z/", "20240105T090000Z/", "20240201T090000Z/20240201T110000Z"}; !slices.Equal(rdates, want) {
		t.Errorf("RDates %v, want %v", rdates, want)
	}
	var ex []string
	for _, e := range rec.ExDates {
		ex = append(ex, e.ID())
	}
	if want := []string{"20240202", "20240301T090000Z"}; !slices.Equal(ex, want) {
		t.Errorf("ExDates %v, want %v", ex, want)
	}
	if d := rec.ExDates[0]; !d.Date || d.Location().String() != "Europe/Berlin" || d.Hour() != 0 {
		t.Errorf("DATE EXDATE %v", d)
	}
	same := mustParse(t, ics("BEGIN:VEVENT", "UID:r", "DTSTART;TZID=Europe/Berlin:20240102T100000",
		"RRULE:wkst=SU;interval=2;byday=2MO,-1FR;until=20241231T225959Z;freq=monthly", "END:VEVENT"), berlin)
	if got := same.Master.Recurrence().Rules[0].String(); got != want {
		t.Errorf("reordered rule: %q, want %q", got, want)
	}
	if ov := mustParse(t, ics("BEGIN:VEVENT", "UID:r", "RECURRENCE-ID:20240102T090000Z", "DTSTART:20240102T090000Z",
		"END:VEVENT"), berlin).Overrides[0].Recurrence(); len(ov.Rules)+len(ov.RDates)+len(ov.ExDates) != 0 {
		t.Errorf("override recurrence %+v", ov)
	}
}
