package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// Principals of the update tests: fred owns calendars shared with wilma
// (the rig's principal, whose notification collection fakeDAV serves).
const (
	fred  = "/p/fred"
	wilma = principal
)

// updatesDAV is fakeDAV with calendars of several owners in one home, as
// the service account sees them on Cyrus: each principal lists its own,
// and the others' with their owner's path (CS:shared-url).
type updatesDAV struct {
	*fakeDAV
	mu   sync.Mutex
	cals map[string]*fakeCal // by href
	n    int                 // version, for tokens and ETags
	// refuse makes the server refuse every sync token (403
	// DAV:valid-sync-token).
	refuse bool
}

// fakeCal is one calendar of updatesDAV.
type fakeCal struct {
	owner, name string
	objects     map[string]calendarObject
	deleted     []string
}

// calHref is the service account's view of owner's calendar name, and
// sharedURL the owner's path of it.
func calHref(owner, name string) string {
	return "/dav/calendars/user/notifier/" + strings.TrimPrefix(owner, "/p/") + "." + name + "/"
}

func sharedURL(owner, name string) string {
	return "/dav/calendars/user/" + strings.TrimPrefix(owner, "/p/") + "/" + name + "/"
}

func (d *updatesDAV) listing(p string, own bool) []caldavclient.Calendar {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []caldavclient.Calendar
	for href, c := range d.cals {
		if (c.owner == p) != own {
			continue
		}
		name := href[strings.LastIndex(strings.TrimSuffix(href, "/"), ".")+1 : len(href)-1]
		out = append(out, caldavclient.Calendar{Href: href, DisplayName: c.name, Owner: c.owner,
			SharedURL: sharedURL(c.owner, name), SyncToken: fmt.Sprint(d.n, href), Components: []string{"VEVENT", "VTODO"}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Href < out[j].Href })
	return out
}

func (d *updatesDAV) CalendarsListedSince(_ context.Context, p string, _ time.Time) ([]caldavclient.Calendar, error) {
	return d.listing(p, true), nil
}

func (d *updatesDAV) OthersCalendarsListedSince(_ context.Context, p string, _ time.Time) ([]caldavclient.Calendar, error) {
	return d.listing(p, false), nil
}

// Sync lists every object of a calendar, and every one deleted so far.
func (d *updatesDAV) Sync(ctx context.Context, collection, token string) (*caldavclient.SyncResult, error) {
	d.mu.Lock()
	c, ok := d.cals[collection]
	if !ok { // the notification collection
		d.mu.Unlock()
		return d.fakeDAV.Sync(ctx, collection, token)
	}
	defer d.mu.Unlock()
	if d.refuse && token != "" {
		return nil, caldavclient.ErrInvalidSyncToken
	}
	res := &caldavclient.SyncResult{Token: fmt.Sprint(d.n), Deleted: append([]string(nil), c.deleted...)}
	for href, o := range c.objects {
		res.Changed = append(res.Changed, caldavclient.Resource{Href: href, ETag: o.etag})
	}
	return res, nil
}

func (d *updatesDAV) MultiGet(_ context.Context, cal string, hrefs []string) ([]caldavclient.Object, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []caldavclient.Object
	for _, h := range hrefs {
		o, ok := d.cals[cal].objects[h]
		out = append(out, caldavclient.Object{Href: h, ETag: o.etag, Data: []byte(o.data), Missing: !ok})
	}
	return out, nil
}

// calendar makes (or renames) owner's calendar name, shown as title.
func (d *updatesDAV) calendar(owner, name, title string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	href := calHref(owner, name)
	if c := d.cals[href]; c != nil {
		c.name = title
		return
	}
	d.cals[href] = &fakeCal{owner: owner, name: title, objects: map[string]calendarObject{}}
}

// dropCalendar deletes owner's calendar name.
func (d *updatesDAV) dropCalendar(owner, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	delete(d.cals, calHref(owner, name))
}

// put stores ics (a VEVENT or VTODO's lines) as uid.ics in owner's
// calendar name.
func (d *updatesDAV) put(owner, name, uid string, lines ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	comp := "VEVENT"
	if strings.HasPrefix(uid, "task") {
		comp = "VTODO"
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\nBEGIN:" + comp + "\r\nUID:" + uid + "\r\n" +
		fmt.Sprintf("DTSTAMP:20261206T%06dZ\r\n", d.n) + strings.Join(lines, "\r\n") + "\r\nEND:" + comp + "\r\nEND:VCALENDAR\r\n"
	href := calHref(owner, name) + uid + ".ics"
	d.cals[calHref(owner, name)].objects[href] = calendarObject{data: ics, etag: fmt.Sprintf(`"%d"`, d.n)}
}

// remove deletes uid.ics from owner's calendar name.
func (d *updatesDAV) remove(owner, name, uid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	c := d.cals[calHref(owner, name)]
	href := calHref(owner, name) + uid + ".ics"
	delete(c.objects, href)
	c.deleted = append(c.deleted, href)
}

// newUpdatesRig is a rig with reminders and updates on (a burst window of
// window), fred's calendar "work" shared with wilma, and both subscribed
// by email.
func newUpdatesRig(t *testing.T, window time.Duration, adjust ...func(*engine.Options)) (*rig, *updatesDAV) {
	var dav *updatesDAV
	r := newRig(t, engine.PolicyDelete, append([]func(*engine.Options){func(o *engine.Options) {
		dav = &updatesDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV), cals: map[string]*fakeCal{}}
		o.Systems[0].CalDAV = dav
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
		o.Updates = engine.UpdateOptions{Enabled: true, BurstWindow: window}
	}}, adjust...)...)
	dav.calendar(fred, "work", "Work")
	r.subscribe(t, fred, "fred@example.org")
	r.subscribe(t, wilma, "wilma@example.org")
	r.share(t, wilma, sharedURL(fred, "work"))
	return r, dav
}

// share records that the calendar at path is shared with p, as its
// sharing invitation would.
func (r *rig) share(t *testing.T, p, path string) {
	t.Helper()
	err := r.db.Write(context.Background(), store.Durable, func(tx *sql.Tx) error {
		return store.SetCalendarSharee(context.Background(), tx, store.PrincipalKey{System: "cal", Principal: p},
			strings.TrimSuffix(path, "/"), "read-write", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// unshare records that the calendar at path is no longer shared with p.
func (r *rig) unshare(t *testing.T, p, path string) {
	t.Helper()
	err := r.db.Write(context.Background(), store.Durable, func(tx *sql.Tx) error {
		return store.SetCalendarSharee(context.Background(), tx, store.PrincipalKey{System: "cal", Principal: p},
			strings.TrimSuffix(path, "/"), "", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// syncBoth syncs fred's and wilma's calendars.
func (r *rig) syncBoth(t *testing.T) {
	t.Helper()
	r.syncPrincipalCalendars(t, fred)
	r.syncPrincipalCalendars(t, wilma)
}

// syncPrincipalCalendars pings p and waits until its calendars were
// synced since and no sync waits or runs (the poll's first round
// included).
func (r *rig) syncPrincipalCalendars(t *testing.T, p string) {
	t.Helper()
	before := testdbCalendarSyncs(t, r, p)
	r.ping(t, p)
	r.waitUntil(t, "calendars of "+p+" synced", func() bool {
		if testdbCalendarSyncs(t, r, p) <= before {
			return false
		}
		for _, j := range r.jobs(t, "", rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning) {
			if j.Kind == (engine.SyncCalendarsArgs{}).Kind() || j.Kind == (engine.SyncPrincipalArgs{}).Kind() {
				return false
			}
		}
		return true
	})
}

// testdbCalendarSyncs is how many times p's calendar syncs finished.
func testdbCalendarSyncs(t *testing.T, r *rig, p string) int {
	t.Helper()
	n := 0
	for _, j := range r.jobs(t, (engine.SyncCalendarsArgs{}).Kind()) {
		if strings.Contains(string(j.EncodedArgs), `"`+p+`"`) && j.FinalizedAt != nil {
			n++
		}
	}
	return n
}

// tell closes the burst windows now and returns the updates sent since
// the last call, as "address type summary".
func (r *rig) tell(t *testing.T, seen *int) []*notifyd.Notification {
	t.Helper()
	if _, err := r.eng.DueUpdatesNowForTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	r.email.mu.Lock()
	defer r.email.mu.Unlock()
	var out []*notifyd.Notification
	for _, req := range r.email.sent[*seen:] {
		if req.Address != "wilma@example.org" {
			t.Errorf("%s sent to %s: the owner is not told of changes whose author is not known", req.Notification.Type, req.Address)
		}
		out = append(out, req.Notification)
	}
	*seen = len(r.email.sent)
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// describe writes updates as "type: field from→to, …" lines.
func describe(ns []*notifyd.Notification) string {
	var lines []string
	for _, n := range ns {
		line := string(n.Type)
		if n.Event != nil {
			line += " " + n.Event.Summary
		} else {
			line += " " + n.Calendar.DisplayName
		}
		if n.Update != nil {
			for _, f := range n.Update.Fields {
				from, to := f.From, f.To
				if !f.FromTime.IsZero() || !f.ToTime.IsZero() {
					from, to = f.FromTime.Format("15:04"), f.ToTime.Format("15:04")
				}
				line += fmt.Sprintf(" [%s %s→%s]", f.Field, from, to)
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
