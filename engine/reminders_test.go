package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

const testCalendar = "/dav/calendars/user/wilma/Default/"

// calendarDAV is fakeDAV with one calendar of events.
type calendarDAV struct {
	*fakeDAV
	mu      sync.Mutex
	objects map[string]calendarObject // href -> object
	deleted []string
	etags   int
	// noNotifications makes the principal have no notification
	// collection, as on Radicale and Xandikos.
	noNotifications bool
	// failTokens makes a sync from any token fail with 500, as Xandikos
	// does for a token it does not know.
	failTokens bool
}

// NotificationURL is fakeDAV's, or ErrNotFound with noNotifications.
func (c *calendarDAV) NotificationURL(ctx context.Context, p string) (string, error) {
	c.mu.Lock()
	none := c.noNotifications
	c.mu.Unlock()
	if none {
		c.fakeDAV.hit("PROPFIND")
		c.fakeDAV.mu.Unlock() // hit locks it
		return "", fmt.Errorf("%w: no notification-URL", caldavclient.ErrNotFound)
	}
	return c.fakeDAV.NotificationURL(ctx, p)
}

type calendarObject struct{ data, etag string }

func (c *calendarDAV) CalendarsListedSince(context.Context, string, time.Time) ([]caldavclient.Calendar, error) {
	return []caldavclient.Calendar{{Href: testCalendar, DisplayName: "Work", Components: []string{"VEVENT", "VTODO"}}}, nil
}

// Sync lists every object of the calendar, and every one deleted so far.
func (c *calendarDAV) Sync(ctx context.Context, collection, token string) (*caldavclient.SyncResult, error) {
	if collection != testCalendar {
		return c.fakeDAV.Sync(ctx, collection, token)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failTokens && token != "" {
		return nil, &caldavclient.HTTPError{Method: "REPORT", URL: collection, Status: http.StatusInternalServerError}
	}
	res := &caldavclient.SyncResult{Token: fmt.Sprint(c.etags), Deleted: append([]string(nil), c.deleted...)}
	for href, o := range c.objects {
		res.Changed = append(res.Changed, caldavclient.Resource{Href: href, ETag: o.etag})
	}
	return res, nil
}

func (c *calendarDAV) MultiGet(_ context.Context, _ string, hrefs []string) ([]caldavclient.Object, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []caldavclient.Object
	for _, h := range hrefs {
		o, ok := c.objects[h]
		out = append(out, caldavclient.Object{Href: h, ETag: o.etag, Data: []byte(o.data), Missing: !ok})
	}
	return out, nil
}

// put stores an event at href starting at start, with summary and one
// DISPLAY alarm 15 minutes before.
func (c *calendarDAV) put(href, summary string, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.etags++
	if c.objects == nil {
		c.objects = map[string]calendarObject{}
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\nBEGIN:VEVENT\r\nUID:" + href + "\r\n" +
		"DTSTAMP:20261206T000000Z\r\nDTSTART:" + start.UTC().Format("20060102T150405Z") + "\r\n" +
		"DTEND:" + start.Add(time.Hour).UTC().Format("20060102T150405Z") + "\r\nSUMMARY:" + summary + "\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	c.objects[href] = calendarObject{data: ics, etag: fmt.Sprintf(`"%d"`, c.etags)}
}

func (c *calendarDAV) remove(href string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.objects, href)
	c.deleted = append(c.deleted, href)
}

// newReminderRig is a rig with reminders on and a calendar server.
func newReminderRig(t *testing.T) (*rig, *calendarDAV) {
	var cal *calendarDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		cal = &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}
		o.Systems[0].CalDAV = cal
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, principal, "wilma@example.org")
	return r, cal
}

// syncCalendars pings the principal and waits for its calendar sync.
func (r *rig) syncCalendars(t *testing.T) {
	t.Helper()
	events, cancel := r.eng.SubscribeForTest(river.EventKindJobCompleted)
	defer cancel()
	// A sync that began before now (the start's poll) may not have seen
	// what the test wrote; the deadline only bounds a broken run. River
	// keeps attempt times to the millisecond.
	pinged := time.Now().Truncate(time.Millisecond)
	r.ping(t, principal)
	deadline := time.After(5 * time.Minute)
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind == (engine.SyncCalendarsArgs{}).Kind() && ev.Job.AttemptedAt != nil && !ev.Job.AttemptedAt.Before(pinged) {
				return
			}
		case <-deadline:
			t.Fatal("no calendar sync begun after the ping completed 5 minutes after it")
		}
	}
}

func (r *rig) reminderStates(t *testing.T) map[string]int {
	t.Helper()
	rs, err := r.db.Reminders(context.Background(), store.ReminderFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, rec := range rs {
		out[rec.State]++
	}
	return out
}

// An event's alarm rings once at its trigger, through the principal's
// subscription, with the reminder's fields; a reminder's notification is
// never deleted from the calendar (the policy is delete here).
func TestReminderRingsOnce(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	// Held, the reminder is read as scheduled however slow its sync: its
	// trigger, two seconds away, may pass before. And the sync that
	// scheduled it is the one whose job waits: the first calendar sync
	// to end may be the poll's, begun before the event was written.
	joined, release := r.eng.HoldRemindersForTest()
	defer release()
	cal.put("a.ics", "Budget review", time.Now().Add(15*time.Minute+2*time.Second))
	r.ping(t, principal)
	select {
	case <-joined:
	case <-time.After(time.Minute):
		t.Fatal("no reminder waits for its trigger a minute after the ping")
	}
	if got := r.reminderStates(t); got[store.ReminderScheduled] != 1 || len(got) != 1 {
		t.Fatalf("reminders %v, want one scheduled", got)
	}
	release()
	log := r.settle(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent || log[0].NotificationType != string(notifyd.TypeReminder) {
		t.Fatalf("delivery log %+v, want one reminder sent", log)
	}
	req := r.email.sent[0]
	if rem := req.Notification.Reminder; rem == nil || rem.UID != "a.ics" || rem.Calendar != testCalendar ||
		rem.Component != "event" || rem.Action != "DISPLAY" || req.Notification.Event.Summary != "Budget review" {
		t.Errorf("reminder %+v / %+v, want the event's and alarm's fields", rem, req.Notification.Event)
	}
	if got := r.reminderStates(t); got[store.ReminderFired] != 1 || len(got) != 1 {
		t.Errorf("reminders %v, want one fired", got)
	}
	if len(cal.deleted) != 0 || len(r.dav.deleted) != 0 {
		t.Errorf("deleted %v %v: a reminder's event was deleted from the calendar", cal.deleted, r.dav.deleted)
	}
	// Synced again (nothing changed): nothing rings again.
	r.syncCalendars(t)
	r.settle(t)
	if got := r.email.sentTo(); len(got) != 1 {
		t.Errorf("sent %v after a second sync, want the one reminder", got)
	}
}

// An edit of the summary keeps the reminder as it is; a move cancels it
// and schedules the new time; a deletion cancels it.
func TestReminderFollowsEdits(t *testing.T) {
	t.Parallel()
	r, cal := newReminderRig(t)
	start := time.Now().Add(2 * time.Hour)
	cal.put("a.ics", "Budget review", start)
	cal.put("b.ics", "Standup", start)
	r.syncCalendars(t)
	cal.put("a.ics", "Budget review (room 4)", start)
	r.syncCalendars(t)
	if got := r.reminderStates(t); got[store.ReminderScheduled] != 2 || len(got) != 1 {
		t.Fatalf("after a summary edit: %v, want the two reminders scheduled, nothing else", got)
	}
	cal.put("a.ics", "Budget review (room 4)", start.Add(time.Hour))
	cal.remove("b.ics")
	r.syncCalendars(t)
	if got := r.reminderStates(t); got[store.ReminderScheduled] != 1 || got[store.ReminderCancelled] != 2 {
		t.Errorf("after a move and a deletion: %v, want one scheduled (the new time) and two cancelled", got)
	}
}
