package engine

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/calendar"
	"github.com/notifyd/notifyd/store"
)

// updateScope is what one calendar sync of a principal needs to find
// calendar updates: whether it wants them at all, whether its calendar
// home was listed before (the calendars it finds are news only then),
// and which of the calendars it syncs are other principals', shared with
// it.
type updateScope struct {
	on, homeListed bool
	// sharee maps the href of each calendar shared with the principal, as
	// the listing shows it, to its owner's path.
	sharee map[string]string
	// others are the hrefs of every calendar of other principals the
	// listing showed (nil when not listed): one of them that is no longer
	// shared with the principal is not deleted.
	others map[string]bool
}

// updateScopeOf is the update scope of the principal's calendar sync, for
// its subscriptions subs.
func (e *Engine) updateScopeOf(ctx context.Context, key store.PrincipalKey, subs []*notifyd.Subscription) (updateScope, error) {
	s := updateScope{on: e.wantsUpdates(subs)}
	if !s.on {
		return s, nil
	}
	var err error
	s.homeListed, err = e.db.HomeListed(ctx, key.System, key.Principal)
	return s, err
}

// sharedCalendars returns the calendars of the listing of the principal's
// home (made since since) that other principals shared with it, as its
// sharing invitations said (calendar_sharees), and records them in s. The
// service account lists them (on Cyrus, once it is given them as it is
// given the principal's own): the listing names each by its owner's path
// (CS:shared-url) or at it. None when the principal wants no updates or
// was shared nothing: no request is sent.
func (e *Engine) sharedCalendars(ctx context.Context, sys System, key store.PrincipalKey, since time.Time, s *updateScope) ([]caldavclient.Calendar, error) {
	if !s.on {
		return nil, nil
	}
	paths, err := e.db.SharedCalendars(ctx, key.System, key.Principal)
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	listed, err := sys.CalDAV.OthersCalendarsListedSince(ctx, key.Principal, since)
	if err != nil {
		return nil, err
	}
	s.sharee, s.others = map[string]string{}, map[string]bool{}
	var out []caldavclient.Calendar
	for _, c := range listed {
		s.others[c.Href] = true
		owner := cmp.Or(c.SharedURL, c.Href)
		if want[sharePath(owner)] {
			s.sharee[c.Href] = owner
			out = append(out, c)
		}
	}
	return out, nil
}

// sharePath is a calendar's path as calendar_sharees keeps it: cleaned,
// without a trailing slash.
func sharePath(href string) string {
	if clean, err := notifyd.CleanHref(href); err == nil {
		href = clean
	}
	if len(href) > 1 {
		href = strings.TrimSuffix(href, "/")
	}
	return href
}

// calendarRecord is what is stored of cal after a sync to token.
func (s *updateScope) calendarRecord(key store.PrincipalKey, cal caldavclient.Calendar, token string) store.CalendarRecord {
	_, sharee := s.sharee[cal.Href]
	return store.CalendarRecord{System: key.System, Principal: key.Principal, Href: cal.Href, DisplayName: cal.DisplayName,
		TimeZone: cmp.Or(cal.TimeZoneID, cal.TimeZone), SyncToken: token, ListedTag: listedTag(cal),
		Description: cal.Description, Color: cal.Color, SharedURL: cal.SharedURL, Sharee: sharee, Owner: cal.Owner}
}

// calendarSyncsOf are the calendar syncs a ping of the principal key
// queues: its own when its subscriptions subs want one (syncsCalendars),
// and, with updates on, those of the principals its calendars are shared
// with, whose sync reads them too (Cyrus pings the owner of a calendar
// that changed, whoever changed it).
func (e *Engine) calendarSyncsOf(ctx context.Context, tx *sql.Tx, key store.PrincipalKey, subs []*notifyd.Subscription) ([]store.PrincipalKey, error) {
	var keys []store.PrincipalKey
	if e.syncsCalendars(subs) {
		keys = append(keys, key)
	}
	if !e.o.Updates.Enabled {
		return keys, nil
	}
	sharees, err := store.ShareesOf(ctx, tx, key.System, key.Principal)
	if err != nil {
		return nil, err
	}
	for _, k := range sharees {
		if k != key {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// stateOfCalendar is what a pending update keeps of a stored calendar.
func stateOfCalendar(c store.CalendarRecord) *store.UpdateState {
	return &store.UpdateState{CalendarHref: c.Href, CalendarName: c.DisplayName, Description: c.Description,
		TimeZone: c.TimeZone, SharedURL: c.SharedURL, Sharee: c.Sharee}
}

// stateOfObject is what a pending update keeps of a stored object of
// calendar c.
func stateOfObject(o store.CalendarObject, c store.CalendarRecord) *store.UpdateState {
	st := stateOfCalendar(c)
	st.CalendarHref, st.Href, st.Data, st.Description = o.CalendarHref, o.Href, string(o.Data), ""
	return st
}

// pending is a pending update of the principal's key, first seen at now.
func (e *Engine) pending(key store.PrincipalKey, k, calHref string, before *store.UpdateState, now time.Time) store.PendingUpdate {
	return store.PendingUpdate{System: key.System, Principal: key.Principal, Key: k, CalendarHref: calHref, Before: before,
		FirstAt: now, DueAt: now.Add(e.o.Updates.BurstWindow)}
}

// calendarUpdate is the pending update of a calendar synced again whose
// listing shows another name, description or time zone than the stored
// one (was), or of a calendar of the principal's own that is new in a
// home listed before; nil when there is none.
func (e *Engine) calendarUpdate(s *updateScope, key store.PrincipalKey, was *store.CalendarRecord, rec store.CalendarRecord, now time.Time) []store.PendingUpdate {
	switch {
	case !s.on || !s.homeListed:
		return nil
	case was == nil && !rec.Sharee:
		return []store.PendingUpdate{e.pending(key, "calendar:"+rec.Href, rec.Href, nil, now)}
	case was != nil && (was.DisplayName != rec.DisplayName || was.Description != rec.Description || was.TimeZone != rec.TimeZone):
		return []store.PendingUpdate{e.pending(key, "calendar:"+rec.Href, rec.Href, stateOfCalendar(*was), now)}
	}
	return nil
}

// objectUpdates are the pending updates of the objects a sync of
// calendar rec (stored before as cals[rec.Href]) changed or removed: the
// state before each is the stored one (for an object new in this
// calendar, the one stored in another with its UID: it moved), nil for
// one created. An object whose data did not change (a re-save the ETag
// says changed) or that cannot be read is none.
func (e *Engine) objectUpdates(ctx context.Context, key store.PrincipalKey, ch store.CalendarChange,
	cals map[string]store.CalendarRecord, now time.Time) ([]store.PendingUpdate, error) {
	hrefs := append([]string(nil), ch.Removed...)
	for _, oa := range ch.Changed {
		hrefs = append(hrefs, oa.Object.Href)
	}
	if len(hrefs) == 0 {
		return nil, nil
	}
	stored, err := e.db.CalendarObjectsOf(ctx, key.System, key.Principal, hrefs)
	if err != nil {
		return nil, err
	}
	byHref := make(map[string]store.CalendarObject, len(stored))
	for _, o := range stored {
		byHref[o.Href] = o
	}
	var out []store.PendingUpdate
	add := func(uid string, before *store.UpdateState) {
		out = append(out, e.pending(key, "uid:"+uid, ch.CalendarHref, before, now))
	}
	for _, oa := range ch.Changed {
		o := oa.Object
		if o.UID == "" {
			continue
		}
		old, had := byHref[o.Href]
		if had && bytes.Equal(old.Data, o.Data) {
			continue
		}
		var before *store.UpdateState
		if had && old.UID != "" && old.UID != o.UID {
			add(old.UID, stateOfObject(old, cals[old.CalendarHref])) // the old UID is gone
		} else if had {
			before = stateOfObject(old, cals[old.CalendarHref])
		}
		if before == nil {
			others, err := e.db.CalendarObjectsByUID(ctx, key.System, key.Principal, o.UID)
			if err != nil {
				return nil, err
			}
			for _, other := range others {
				if other.Href != o.Href {
					before = stateOfObject(other, cals[other.CalendarHref])
					break
				}
			}
		}
		add(o.UID, before)
	}
	for _, href := range ch.Removed {
		if old, had := byHref[href]; had && old.UID != "" {
			add(old.UID, stateOfObject(old, cals[old.CalendarHref]))
		}
	}
	return out, nil
}

// objectOnly is obj with its UID, without its alarms (NoAlarms): for a
// calendar shared with the principal, or with reminders off. It returns
// the error when the data cannot be parsed.
func (e *Engine) objectOnly(obj store.CalendarObject, zone *time.Location) (store.ObjectAlarms, error) {
	oa := store.ObjectAlarms{Object: obj, NoAlarms: true}
	parsed, err := calendar.Parse(obj.Data, calendar.ParseOptions{DefaultLocation: zone})
	if err != nil {
		return oa, err
	}
	oa.Object.UID = parsed.UID
	return oa, nil
}

// removeGoneCalendars removes the stored calendars of the principal that
// its home's listing no longer shows (listed), with their objects, and
// cancels their reminders; each is a calendar-deleted update unless it is
// another principal's still listed (no longer shared with this one).
func (e *Engine) removeGoneCalendars(ctx context.Context, log *slog.Logger, key store.PrincipalKey, stored []store.CalendarRecord,
	listed map[string]bool, s *updateScope) error {
	for _, c := range stored {
		if listed[c.Href] {
			continue
		}
		var pend []store.PendingUpdate
		// Another principal's calendar no longer shared with this one is
		// not deleted: only one gone from the listing of others is.
		if s.on && s.homeListed && (!c.Sharee || (s.others != nil && !s.others[c.Href])) {
			pend = append(pend, e.pending(key, "calendar:"+c.Href, c.Href, stateOfCalendar(c), time.Now()))
		}
		var cancelled int
		err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			var err error
			if cancelled, err = store.RemoveCalendar(ctx, tx, key.System, key.Principal, c.Href, time.Now()); err != nil {
				return err
			}
			return e.addPendingUpdates(ctx, tx, pend)
		})
		if err != nil {
			return err
		}
		e.metrics.reminders.WithLabelValues(store.ReminderCancelled).Add(float64(cancelled))
		log.Info("calendar gone from the principal's calendar home: removed, its reminders cancelled", "calendar", c.Href,
			"cancelled", cancelled)
	}
	return nil
}

// markHomeListed records that the principal's home was listed for
// updates: calendars found from now on are news.
func (e *Engine) markHomeListed(ctx context.Context, key store.PrincipalKey, s *updateScope) error {
	if !s.on || s.homeListed {
		return nil
	}
	return e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error { return store.MarkHomeListed(ctx, tx, key, time.Now()) })
}

// shareOf is what a notification says of a calendar shared with the
// principal whose collection holds it: an invitation names the owner's
// path of the calendar (hosturl) and the access it grants; no access
// (Cyrus's invitation once the owner stops sharing) or a declined or
// deleted invitation is no share. ok is false for other notifications.
func shareOf(n *notifyd.Notification) (calendar, access string, ok bool) {
	if n.Type != notifyd.TypeShareInvite || n.Calendar.Href == "" {
		return "", "", false
	}
	access = n.Access
	switch strings.ToLower(n.Status) {
	case "declined", "deleted", "invalid":
		access = ""
	}
	return sharePath(n.Calendar.Href), access, true
}
