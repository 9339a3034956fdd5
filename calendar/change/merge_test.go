package change

import (
	"slices"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// Merge gives the net change of two consecutive Updates.
func TestMerge(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 5, 12, h, 0, 0, 0, time.UTC) }
	upd := func(action string, fields ...notifyd.FieldChange) notifyd.Update {
		return notifyd.Update{Component: "event", Action: action, UID: "e", Fields: fields}
	}
	title := func(from, to string) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldSummary, From: from, To: to}
	}
	start := func(from, to int) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldStart, FromTime: at(from), ToTime: at(to)}
	}
	rec := func(from, to string) notifyd.FieldChange {
		return notifyd.FieldChange{Field: notifyd.FieldRecurrence, From: from, To: to}
	}
	for _, c := range []struct {
		name string
		a, b notifyd.Update
		want []string // describe's line; nil: nothing
	}{
		{"created then deleted: nothing", upd(Created), upd(Deleted), nil},
		{"created then modified: created", upd(Created), upd(Modified, title("a", "b")), []string{"event created"}},
		{"modified then deleted: deleted", upd(Modified, title("a", "b")), upd(Deleted), []string{"event deleted"}},
		{"deleted then created: modified, unknown how", upd(Deleted), upd(Created), []string{"event modified"}},
		{"modified twice", upd(Modified, title("a", "b"), start(8, 9)), upd(Modified, title("b", "c")),
			[]string{`event modified: start 2026-05-12T08:00Z→2026-05-12T09:00Z; summary "a"→"c"`}},
		{"modified then reverted: nothing", upd(Modified, title("a", "b"), start(8, 9)), upd(Modified, start(9, 8), title("b", "a")), nil},
		{"partly reverted", upd(Modified, title("a", "b"), start(8, 9)), upd(Modified, start(9, 8)),
			[]string{`event modified: summary "a"→"b"`}},
		{"recurrence chained", upd(Modified, rec("weekly", "daily")), upd(Modified, rec("daily", "monthly")),
			[]string{`event modified: recurrence "weekly"→"monthly"`}},
		{"an exclusion undone, another kept", upd(Modified, rec("", "not on A"), rec("", "not on B")), upd(Modified, rec("not on A", "")),
			[]string{`event modified: recurrence ""→"not on B"`}},
		{"a bulk change stays one", upd(Modified), upd(Modified, title("a", "b")), []string{"event modified"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, keep := Merge(c.a, c.b)
			var got []string
			if keep {
				got = describe([]notifyd.Update{u})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Merge = %q (keep %v), want %q", got, keep, c.want)
			}
		})
	}
	other := notifyd.Update{Component: "event", Action: Modified, UID: "e", RecurrenceID: "20260519T080000Z"}
	if u, keep := Merge(upd(Created), other); !keep || u.RecurrenceID != other.RecurrenceID || u.Action != Modified {
		t.Errorf("another instance: %+v %v, want b", u, keep)
	}
}

// Merge of Diff's steps agrees with Diff of the first and last version.
func TestMergeAgreesWithDiff(t *testing.T) {
	v0 := meeting()
	v1 := replace(replace(v0, "SUMMARY", "SUMMARY:Budget"), "DTSTART", "DTSTART;TZID=Europe/Berlin:20260512T093000")
	v2 := replace(v1, "SUMMARY", "SUMMARY:Jour fixe")
	opts := Options{Location: berlin}
	o0, o1, o2 := parse(t, v0, berlin), parse(t, v1, berlin), parse(t, v2, berlin)
	d01, d12 := Diff(o0, o1, opts), Diff(o1, o2, opts)
	if len(d01) != 1 || len(d12) != 1 {
		t.Fatalf("steps %q %q", describe(d01), describe(d12))
	}
	u, keep := Merge(d01[0], d12[0])
	want := describe(Diff(o0, o2, opts))
	if got := describe([]notifyd.Update{u}); !keep || !slices.Equal(got, want) {
		t.Errorf("Merge = %q, Diff(first, last) = %q", got, want)
	}
}
