package change

import (
	"strings"
	"time"
	"unicode"

	"github.com/notifyd/notifyd"
)

// MaxText is the most runes a FieldChange's From or To text holds; a
// longer text is cut there and ends with an ellipsis.
const MaxText = 200

// compare lists what differs from b to a, in the order messages list it.
func (d *differ) compare(b, a view) []notifyd.FieldChange {
	var out []notifyd.FieldChange
	completedChanged := a.task && b.completed != a.completed
	if bs, as := statusKey(b.status, b.task), statusKey(a.status, a.task); bs != as {
		cancel := b.status == "CANCELLED" || a.status == "CANCELLED"
		if !completedChanged || cancel {
			out = append(out, notifyd.FieldChange{Field: notifyd.FieldStatus,
				From: statusText(b.status, b.task), To: statusText(a.status, a.task)})
		}
	}
	if completedChanged {
		fc := notifyd.FieldChange{Field: notifyd.FieldCompleted}
		if a.completed {
			fc.To = "completed"
		} else {
			fc.From = "completed"
		}
		out = append(out, fc)
	}
	if !b.start.equal(a.start) {
		out = append(out, d.timeChange(notifyd.FieldStart, b.start, a.start))
	}
	if !b.end.equal(a.end) {
		field := notifyd.FieldEnd
		if a.task {
			field = notifyd.FieldDue
		}
		out = append(out, d.timeChange(field, b.end, a.end))
	}
	out = textChange(out, notifyd.FieldSummary, b.summary, a.summary)
	out = textChange(out, notifyd.FieldLocation, b.location, a.location)
	if b.rec != nil && a.rec != nil {
		out = append(out, d.recurrenceChanges(b.rec, a.rec)...)
	}
	out = textChange(out, notifyd.FieldDescription, b.description, a.description)
	return out
}

// statusKey is a STATUS as compared: an event without one is as good as
// CONFIRMED, a task's NEEDS-ACTION as none, and a task's COMPLETED is
// its completed field.
func statusKey(s string, task bool) string {
	switch {
	case !task && s == "CONFIRMED", task && (s == "NEEDS-ACTION" || s == "COMPLETED"):
		return ""
	}
	return s
}

// statusText is a STATUS as reported: what an absent one means.
func statusText(s string, task bool) string {
	switch {
	case s != "":
		return s
	case task:
		return "NEEDS-ACTION"
	}
	return "CONFIRMED"
}

// textChange appends a change of a text field when b and a differ.
func textChange(out []notifyd.FieldChange, field, b, a string) []notifyd.FieldChange {
	if b == a {
		return out
	}
	return append(out, notifyd.FieldChange{Field: field, From: capText(b), To: capText(a)})
}

// timeChange is a change of a time field. When a time becomes a date
// (or the reverse), AllDay is the new value's and the old value is given
// in the same form: the date it fell on in the calendar's zone, or that
// date's midnight there.
func (d *differ) timeChange(field string, b, a tval) notifyd.FieldChange {
	fc := notifyd.FieldChange{Field: field, FromTime: b.t, ToTime: a.t, AllDay: a.allDay}
	switch {
	case a.t.IsZero():
		fc.AllDay = b.allDay
	case b.t.IsZero() || b.allDay == a.allDay:
	case a.allDay:
		y, mo, day := b.t.In(d.loc).Date()
		fc.FromTime = time.Date(y, mo, day, 0, 0, 0, 0, time.UTC)
	default:
		y, mo, day := b.t.Date()
		fc.FromTime = time.Date(y, mo, day, 0, 0, 0, 0, d.loc).UTC()
	}
	return fc
}

// capText is s cut at MaxText runes (with an ellipsis), as valid UTF-8.
// Its work is bounded by MaxText, whatever the length of s.
func capText(s string) string {
	n := 0
	for i := range s {
		if n == MaxText {
			return strings.ToValidUTF8(strings.TrimRightFunc(s[:i], unicode.IsSpace), "\uFFFD") + "…"
		}
		n++
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
