package change

import (
	"slices"

	"github.com/notifyd/notifyd"
)

// Merge combines two consecutive Updates of one event, task or instance
// (a, then b: the same Component, UID and RecurrenceID) into their net
// change; keep is false when there is none. Diff of the first and the
// last version says the same more exactly; Merge is for changes known
// only as Updates (a publish without the earlier version).
//
//   - created, then deleted: nothing.
//   - created, then modified: created (as b names it).
//   - anything, then deleted: deleted.
//   - deleted, then created or modified: modified, without Fields (what
//     changed is not known).
//   - modified, then modified: each field from a's From to b's To; a
//     field changed back is left out, and when every field is, nothing.
//     A recurrence change (several may be listed) is chained with the one
//     that continues it ("weekly" to "daily", then "daily" to "monthly")
//     and dropped with the one that undoes it. When either lists no
//     Fields (Diff's bulk change), the result lists none.
//
// Updates of different events or instances are not merged: Merge returns
// b.
func Merge(a, b notifyd.Update) (u notifyd.Update, keep bool) {
	if a.Component != b.Component || a.UID != b.UID || a.RecurrenceID != b.RecurrenceID {
		return b, true
	}
	switch {
	case a.Action == Created && b.Action == Deleted:
		return notifyd.Update{}, false
	case a.Action == Created:
		b.Action, b.Fields = Created, nil
		return b, true
	case b.Action == Deleted:
		b.Fields = nil
		return b, true
	case a.Action == Deleted, b.Action == Created:
		b.Action, b.Fields = Modified, nil
		return b, true
	case len(a.Fields) == 0 || len(b.Fields) == 0:
		b.Fields = nil
		return b, true
	}
	b.Fields = mergeFields(a.Fields, b.Fields)
	if len(b.Fields) == 0 {
		return notifyd.Update{}, false
	}
	return b, true
}

// fieldOrder is the order Diff lists fields in.
var fieldOrder = []string{
	notifyd.FieldStatus, notifyd.FieldCompleted, notifyd.FieldStart, notifyd.FieldEnd, notifyd.FieldDue,
	notifyd.FieldSummary, notifyd.FieldLocation, notifyd.FieldRecurrence, notifyd.FieldDescription,
}

// mergeFields is a's changes followed by b's, field by field.
func mergeFields(a, b []notifyd.FieldChange) []notifyd.FieldChange {
	names := slices.Clone(fieldOrder)
	for _, f := range append(slices.Clone(a), b...) {
		if !slices.Contains(names, f.Field) {
			names = append(names, f.Field)
		}
	}
	var out []notifyd.FieldChange
	for _, name := range names {
		af, bf := only(a, name), only(b, name)
		switch {
		case len(af) == 0:
			out = append(out, bf...)
		case len(bf) == 0:
			out = append(out, af...)
		case len(af) == 1 && len(bf) == 1 && name != notifyd.FieldRecurrence:
			if m := chain(af[0], bf[0]); !unchanged(m) {
				out = append(out, m)
			}
		default:
			out = append(out, chainList(af, bf)...)
		}
	}
	return out
}

// only is the changes of one field.
func only(fields []notifyd.FieldChange, name string) []notifyd.FieldChange {
	var out []notifyd.FieldChange
	for _, f := range fields {
		if f.Field == name {
			out = append(out, f)
		}
	}
	return out
}

// chain is a's From to b's To.
func chain(a, b notifyd.FieldChange) notifyd.FieldChange {
	return notifyd.FieldChange{Field: a.Field, From: a.From, FromTime: a.FromTime, To: b.To, ToTime: b.ToTime, AllDay: b.AllDay}
}

// unchanged reports a change whose two sides are alike.
func unchanged(f notifyd.FieldChange) bool {
	return f.From == f.To && f.FromTime.Equal(f.ToTime)
}

// chainList merges lists of changes of one field: each of b's continues
// the change of a's that ends where it starts, or undoes the one that is
// its inverse, or is listed after a's.
func chainList(a, b []notifyd.FieldChange) []notifyd.FieldChange {
	out := slices.Clone(a)
	for _, f := range b {
		i := slices.IndexFunc(out, func(g notifyd.FieldChange) bool {
			return (g.To != "" && g.To == f.From) || (g.From == f.To && g.To == f.From)
		})
		if i < 0 {
			out = append(out, f)
			continue
		}
		if m := chain(out[i], f); unchanged(m) {
			out = slices.Delete(out, i, i+1)
		} else {
			out[i] = m
		}
	}
	return out
}
