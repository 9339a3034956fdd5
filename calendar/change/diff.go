package change

import (
	"cmp"
	"slices"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
)

// DefaultMaxInstances is Options.MaxInstances when it is 0.
const DefaultMaxInstances = 20

// Options are the caller's settings for Diff.
type Options struct {
	// Location is the calendar's time zone (the default location both
	// versions were parsed with): floating times and dates are read in
	// it. Nil means UTC.
	Location *time.Location
	// Object is the resource's href, copied into each Update.
	Object string
	// MaxInstances bounds the instance Updates of one Diff: when more
	// overridden instances changed, Diff returns one Update for the
	// series, without Fields. 0 means DefaultMaxInstances.
	MaxInstances int
}

// The Update actions.
const (
	Created  = "created"
	Modified = "modified"
	Deleted  = "deleted"
)

// Diff says what a person sees that changed from before to after, two
// versions of one calendar object resource: nothing (nil), the event or
// task created (before nil) or deleted (after nil), the series modified,
// or some of its instances modified, created or deleted. The package
// documentation says what counts as a change.
func Diff(before, after *calendar.Object, opts Options) []notifyd.Update {
	d := &differ{opts: opts, loc: opts.Location}
	if d.loc == nil {
		d.loc = time.UTC
	}
	if d.opts.MaxInstances <= 0 {
		d.opts.MaxInstances = DefaultMaxInstances
	}
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil:
		return []notifyd.Update{d.update(after, Created, "", nil)}
	case after == nil:
		return []notifyd.Update{d.update(before, Deleted, "", nil)}
	case before.UID != after.UID || before.Kind != after.Kind:
		return []notifyd.Update{d.update(before, Deleted, "", nil), d.update(after, Created, "", nil)}
	case (before.Master == nil) != (after.Master == nil):
		if after.Master != nil {
			return []notifyd.Update{d.update(after, Created, "", nil)}
		}
		return []notifyd.Update{d.update(before, Deleted, "", nil)}
	}
	if before.Master != nil {
		if fields := d.compare(d.masterView(before), d.masterView(after)); len(fields) > 0 {
			u := d.update(after, Modified, "", nil)
			u.Fields = fields
			return []notifyd.Update{u}
		}
	}
	return d.instances(before, after)
}

// instances lists the changes of overridden instances, the master being
// unchanged.
func (d *differ) instances(before, after *calendar.Object) []notifyd.Update {
	type pair struct {
		rid  tval
		b, a *calendar.Component
	}
	byID := make(map[id]int, len(after.Overrides))
	pairs := make([]pair, 0, max(len(before.Overrides), len(after.Overrides)))
	for _, side := range []struct {
		obj   *calendar.Object
		after bool
	}{{before, false}, {after, true}} {
		for _, ov := range side.obj.Overrides {
			rid := d.norm(ov.RecurrenceID)
			i, ok := byID[rid.id()]
			if !ok {
				i = len(pairs)
				byID[rid.id()] = i
				pairs = append(pairs, pair{rid: rid})
			}
			if side.after {
				pairs[i].a = ov
			} else {
				pairs[i].b = ov
			}
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int { return x.rid.t.Compare(y.rid.t) })
	var out []notifyd.Update
	for _, p := range pairs {
		rid := cmp.Or(p.a, p.b).RecurrenceID
		if after.Master != nil && after.Recurring() {
			// The master is unchanged: an instance its EXDATE removes is
			// in neither version, whatever its override says.
			if _, ok := d.masterInstance(after, rid); !ok {
				continue
			}
		}
		bv, bok := d.instance(before, p.b, rid)
		av, aok := d.instance(after, p.a, rid)
		var u notifyd.Update
		switch {
		case !bok && !aok:
			continue
		case !bok:
			u = d.update(after, Created, p.rid.key(), p.a)
		case !aok:
			u = d.update(before, Deleted, p.rid.key(), p.b)
		default:
			fields := d.compare(bv, av)
			if len(fields) == 0 {
				continue
			}
			u = d.update(after, Modified, p.rid.key(), cmp.Or(p.a, p.b))
			u.Fields = fields
		}
		if len(out) == d.opts.MaxInstances {
			return []notifyd.Update{d.update(after, Modified, "", nil)}
		}
		out = append(out, u)
	}
	return out
}

// instance is what obj shows at RECURRENCE-ID rid: the override ov, else
// (ov nil) the master's instance there; ok is false when obj has none.
func (d *differ) instance(obj *calendar.Object, ov *calendar.Component, rid calendar.Time) (view, bool) {
	if ov != nil {
		return d.componentView(obj, ov), true
	}
	return d.instanceView(obj, rid)
}
