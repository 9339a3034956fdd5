package engine

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/calendar/change"
	"github.com/notifyd/notifyd/store"
)

// told is one net change a pending update tells: its notification, and
// whether it is about a calendar shared with the principal (not its own).
type told struct {
	record     store.NotificationRecord
	shared     bool
	deliveries []store.DeliveryRecord
	// suppressed counts the deliveries recorded as suppressed (the
	// recipient made the change).
	suppressed int
	// why says why nobody is told, "" when the recipients are the
	// principal's subscriptions.
	why string
}

// netUpdates works out, in tx, what changed from the state before p's
// burst to the state stored now: nothing, or one notification per
// change.Diff update (one for a calendar). zone is the principal's, for
// calendars without one of their own.
func (e *Engine) netUpdates(ctx context.Context, tx *sql.Tx, p *store.PendingUpdate, zone *time.Location) ([]told, error) {
	if href, ok := strings.CutPrefix(p.Key, "calendar:"); ok {
		return e.netCalendarUpdate(ctx, tx, p, href)
	}
	uid := strings.TrimPrefix(p.Key, "uid:")
	objs, err := store.CalendarObjectsByUID(ctx, tx, p.System, p.Principal, uid)
	if err != nil {
		return nil, err
	}
	after := pickAfter(objs, p.Before)
	var afterState *store.UpdateState
	if after != nil {
		cal, err := store.StoredCalendar(ctx, tx, p.System, p.Principal, after.CalendarHref)
		if err != nil {
			return nil, err
		}
		afterState = &store.UpdateState{CalendarHref: after.CalendarHref, Href: after.Href, Data: string(after.Data)}
		if cal != nil {
			afterState.CalendarName, afterState.TimeZone = cal.DisplayName, cal.TimeZone
			afterState.SharedURL, afterState.Sharee = cal.SharedURL, cal.Sharee
		}
	}
	return e.diffObject(p, uid, p.Before, afterState, zone), nil
}

// pickAfter is, of the objects now stored with the UID, the one the
// change is about: at the href it had before, else in the calendar it
// was in, else the first (it moved); nil when there is none.
func pickAfter(objs []store.CalendarObject, before *store.UpdateState) *store.CalendarObject {
	if len(objs) == 0 {
		return nil
	}
	if before != nil {
		for i := range objs {
			if objs[i].Href == before.Href {
				return &objs[i]
			}
		}
		for i := range objs {
			if objs[i].CalendarHref == before.CalendarHref {
				return &objs[i]
			}
		}
	}
	return &objs[0]
}

// diffObject is the net change from before to after of the object with
// uid, each nil when it did not (or no longer does) exist.
func (e *Engine) diffObject(p *store.PendingUpdate, uid string, before, after *store.UpdateState, zone *time.Location) []told {
	b, a := parseState(before, zone), parseState(after, zone)
	ref := after
	if ref == nil {
		ref = before
	}
	if ref == nil {
		return nil
	}
	loc := cmpZone(calendar.Zone(ref.TimeZone), zone)
	opts := change.Options{Location: loc, Object: publicHref(ref.SharedURL, ref.CalendarHref, ref.Href)}
	ups := change.Diff(b, a, opts)
	if b != nil && a != nil && before.CalendarHref != after.CalendarHref {
		// Moved to another calendar (with the same UID): one
		// modification naming the calendars, not a deletion and a
		// creation.
		moved := notifyd.FieldChange{Field: notifyd.FieldCalendar, From: before.CalendarName, To: after.CalendarName}
		if len(ups) > 0 && ups[0].Action == change.Modified && ups[0].RecurrenceID == "" {
			ups[0].Fields = append([]notifyd.FieldChange{moved}, ups[0].Fields...)
		} else {
			ups = append([]notifyd.Update{{Component: component(a), Action: change.Modified, Object: opts.Object, UID: a.UID,
				Fields: []notifyd.FieldChange{moved}}}, ups...)
		}
	}
	out := make([]told, 0, len(ups))
	for i, u := range ups {
		obj, st := a, after
		if u.Action == change.Deleted || a == nil {
			obj, st = b, before
		}
		ev := change.Event(obj, u, opts)
		n := notifyd.Notification{Type: change.Type(u), Element: element(obj), UID: uid, DTStamp: p.FirstAt, Summary: ev.Summary,
			Calendar: notifyd.Collection{Href: publicCalendar(st.SharedURL, st.CalendarHref), DisplayName: st.CalendarName},
			Event:    &ev, Update: &u}
		out = append(out, e.toldOf(p, i, n, st.Sharee))
	}
	return out
}

// netCalendarUpdate is the net change of the calendar href: created,
// deleted, or what a person sees of it (name, description, time zone)
// modified.
func (e *Engine) netCalendarUpdate(ctx context.Context, tx *sql.Tx, p *store.PendingUpdate, href string) ([]told, error) {
	cur, err := store.StoredCalendar(ctx, tx, p.System, p.Principal, href)
	if err != nil {
		return nil, err
	}
	before := p.Before
	u := notifyd.Update{Component: "calendar"}
	var st store.UpdateState
	switch {
	case before == nil && cur == nil:
		return nil, nil
	case before == nil:
		u.Action = change.Created
	case cur == nil:
		u.Action, st = change.Deleted, *before
	default:
		u.Action = change.Modified
		for _, f := range []struct{ field, from, to string }{
			{notifyd.FieldSummary, before.CalendarName, cur.DisplayName},
			{notifyd.FieldDescription, before.Description, cur.Description},
			{notifyd.FieldTimeZone, zoneLabel(before.TimeZone), zoneLabel(cur.TimeZone)},
		} {
			if f.from != f.to {
				u.Fields = append(u.Fields, notifyd.FieldChange{Field: f.field, From: f.from, To: f.to})
			}
		}
		if len(u.Fields) == 0 {
			return nil, nil
		}
	}
	if cur != nil {
		st = store.UpdateState{CalendarHref: cur.Href, CalendarName: cur.DisplayName, SharedURL: cur.SharedURL, Sharee: cur.Sharee}
	}
	n := notifyd.Notification{Type: change.Type(u), Element: "calendar", DTStamp: p.FirstAt,
		Calendar: notifyd.Collection{Href: publicCalendar(st.SharedURL, href), DisplayName: st.CalendarName}, Update: &u}
	return []told{e.toldOf(p, 0, n, st.Sharee)}, nil
}

// toldOf is the i-th notification of p's burst: its id is the same
// however often the job runs (it runs once with the pending update).
func (e *Engine) toldOf(p *store.PendingUpdate, i int, n notifyd.Notification, shared bool) told {
	id := digest("update", p.System, p.Principal, p.Key, strconv.FormatInt(p.FirstAt.UnixMicro(), 10), strconv.Itoa(i))
	href := n.Calendar.Href
	if n.Update != nil && n.Update.Object != "" {
		href = n.Update.Object
	}
	parsed, err := json.Marshal(n)
	if err != nil {
		e.log.Error("an update could not be written as JSON", "err", err)
	}
	return told{record: store.NotificationRecord{ID: id, Href: href, Type: string(n.Type), Parsed: parsed}, shared: shared}
}

// parseState parses a stored object, nil when there is none or it
// cannot be read (an object notifyd cannot read is no news).
func parseState(s *store.UpdateState, zone *time.Location) *calendar.Object {
	if s == nil || s.Data == "" {
		return nil
	}
	obj, err := calendar.Parse([]byte(s.Data), calendar.ParseOptions{DefaultLocation: cmpZone(calendar.Zone(s.TimeZone), zone)})
	if err != nil {
		return nil
	}
	return obj
}

// cmpZone is the first of a and b that is not nil.
func cmpZone(a, b *time.Location) *time.Location {
	if a != nil {
		return a
	}
	return b
}

// component is an Update's component of obj: "todo" or "event".
func component(obj *calendar.Object) string {
	if obj != nil && obj.Kind == calendar.KindTask {
		return "todo"
	}
	return "event"
}

// element is the iCalendar component a notification of obj is about.
func element(obj *calendar.Object) string {
	if obj != nil && obj.Kind == calendar.KindTask {
		return "VTODO"
	}
	return "VEVENT"
}

// publicCalendar is how a person names a calendar: the owner's path of
// a calendar shared with the principal (sharedURL), else its href.
func publicCalendar(sharedURL, href string) string {
	if sharedURL != "" {
		return sharedURL
	}
	return href
}

// publicHref is an object's href in the owner's calendar: the service
// account's view of a shared calendar (calHref) is no link a person
// can follow.
func publicHref(sharedURL, calHref, href string) string {
	rest, ok := strings.CutPrefix(href, calHref)
	if sharedURL == "" || !ok {
		return href
	}
	return strings.TrimSuffix(sharedURL, "/") + "/" + strings.TrimPrefix(rest, "/")
}

// zoneLabel is a calendar's time zone as a person reads it: its id, or
// the TZID of its VTIMEZONE.
func zoneLabel(tz string) string {
	if !strings.Contains(tz, "BEGIN:") {
		return tz
	}
	sc := bufio.NewScanner(strings.NewReader(tz))
	for sc.Scan() {
		if id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "TZID:"); ok {
			return id
		}
	}
	return ""
}
