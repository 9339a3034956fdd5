package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

const testInbox = "/dav/calendars/user/wilma/Inbox/"

// inboxDAV is calendarDAV with wilma's scheduling inbox: its items by
// href, a change counter for its sync token, and the requests made to it.
type inboxDAV struct {
	*calendarDAV
	imu      sync.Mutex
	items    map[string]calendarObject
	gone     []string
	n        int
	addrs    []string
	multiget int   // MultiGets of the inbox
	failGet  error // returned by the inbox's MultiGet while set
}

var _ engine.ScheduleInboxes = (*inboxDAV)(nil)

func (d *inboxDAV) ScheduleInboxListedSince(context.Context, string, time.Time) (caldavclient.Inbox, error) {
	d.imu.Lock()
	defer d.imu.Unlock()
	return caldavclient.Inbox{Href: testInbox, SyncToken: fmt.Sprint("inbox-", d.n)}, nil
}

// InboxChanges lists every item and every one gone (as a sync from any
// token may: the engine must not send anything twice).
func (d *inboxDAV) InboxChanges(_ context.Context, inbox, token string) (*caldavclient.SyncResult, bool, error) {
	d.imu.Lock()
	defer d.imu.Unlock()
	res := &caldavclient.SyncResult{Token: fmt.Sprint(d.n), Deleted: append([]string(nil), d.gone...)}
	for href, o := range d.items {
		res.Changed = append(res.Changed, caldavclient.Resource{Href: href, ETag: o.etag})
	}
	return res, token == "", nil
}

func (d *inboxDAV) CalendarUserAddresses(context.Context, string) ([]string, error) {
	return d.addrs, nil
}

func (d *inboxDAV) MultiGet(ctx context.Context, coll string, hrefs []string) ([]caldavclient.Object, error) {
	if coll != testInbox {
		return d.calendarDAV.MultiGet(ctx, coll, hrefs)
	}
	d.imu.Lock()
	defer d.imu.Unlock()
	d.multiget++
	if d.failGet != nil {
		return nil, d.failGet
	}
	var out []caldavclient.Object
	for _, h := range hrefs {
		o, ok := d.items[h]
		out = append(out, caldavclient.Object{Href: h, ETag: o.etag, Data: []byte(o.data), Missing: !ok})
	}
	return out, nil
}

// deliver puts an iTIP message in the inbox at name.ics.
func (d *inboxDAV) deliver(name, ics string) {
	d.imu.Lock()
	defer d.imu.Unlock()
	d.n++
	if d.items == nil {
		d.items = map[string]calendarObject{}
	}
	d.items[testInbox+name+".ics"] = calendarObject{data: ics, etag: fmt.Sprintf(`"i%d"`, d.n)}
}

// process removes an item, as wilma's calendar client does once it
// handled it.
func (d *inboxDAV) process(name string) {
	d.imu.Lock()
	defer d.imu.Unlock()
	d.n++
	delete(d.items, testInbox+name+".ics")
	d.gone = append(d.gone, testInbox+name+".ics")
}

// itip is an iTIP message about fred's meeting: METHOD method, with the
// given ORGANIZER and ATTENDEE lines.
func itip(method string, people ...string) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifyd test//EN", "METHOD:" + method,
		"BEGIN:VEVENT", "UID:meet-1@example.org", "DTSTAMP:20261206T000000Z", "SEQUENCE:1",
		"DTSTART;TZID=Europe/Paris:20300115T090000", "DTEND;TZID=Europe/Paris:20300115T100000",
		"SUMMARY:Budget meeting", "LOCATION:Room 4"}
	lines = append(lines, people...)
	lines = append(lines, "END:VEVENT", "END:VCALENDAR", "")
	return strings.Join(lines, "\r\n")
}

const (
	fredOrganizer = "ORGANIZER;CN=Fred Flintstone:mailto:fred@example.org"
	wilmaAttendee = "ATTENDEE;CN=Wilma;RSVP=TRUE:mailto:wilma@example.org"
)

// newInboxRig is a reminder rig whose server has wilma's inbox; the delete
// policy is on, which must never touch it.
func newInboxRig(t *testing.T) (*rig, *inboxDAV) {
	var d *inboxDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		d = &inboxDAV{calendarDAV: &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}}
		o.Systems[0].CalDAV = d
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, principal, "wilma@example.org")
	return r, d
}

// sent returns what the email channel sent, by type.
func (r *rig) sentByType() map[notifyd.NotificationType][]*notifyd.Notification {
	r.email.mu.Lock()
	defer r.email.mu.Unlock()
	out := map[notifyd.NotificationType][]*notifyd.Notification{}
	for _, req := range r.email.sent {
		out[req.Notification.Type] = append(out[req.Notification.Type], req.Notification)
	}
	return out
}

// The first sync records the messages already there and sends nothing;
// each message after is one notification of its method's type, with who
// sent it, what and when; syncing again sends nothing more; no inbox item
// is ever deleted.
func TestInboxMessagesEachMethod(t *testing.T) {
	t.Parallel()
	r, d := newInboxRig(t)
	d.deliver("old1", itip("REQUEST", fredOrganizer, wilmaAttendee))
	d.deliver("old2", itip("CANCEL", fredOrganizer, wilmaAttendee))
	r.syncCalendars(t)
	if log := r.settle(t); len(log) != 0 {
		t.Fatalf("first sync: %d deliveries, want none (the messages already there are old news)", len(log))
	}

	d.deliver("req", itip("REQUEST", fredOrganizer, wilmaAttendee))
	d.deliver("reply", itip("REPLY", fredOrganizer, "ATTENDEE;CN=Carol;PARTSTAT=DECLINED:mailto:carol@example.org"))
	d.deliver("refresh", itip("REFRESH", fredOrganizer, "ATTENDEE:mailto:dave@example.org"))
	d.deliver("counter", itip("COUNTER", fredOrganizer, "ATTENDEE;CN=Dave;PARTSTAT=TENTATIVE:mailto:dave@example.org"))
	d.deliver("decline", itip("DECLINECOUNTER", fredOrganizer, wilmaAttendee))
	d.deliver("cancel", itip("CANCEL", fredOrganizer, wilmaAttendee))
	d.process("old1")
	r.syncCalendars(t)
	r.settle(t)
	r.syncCalendars(t) // nothing new: nothing more
	r.settle(t)
	got := r.sentByType()
	for typ, n := range map[notifyd.NotificationType]int{notifyd.TypeInvitation: 1, notifyd.TypeInvitationReply: 1,
		notifyd.TypeRefreshRequest: 1, notifyd.TypeCounterProposal: 2, notifyd.TypeInvitationCancelled: 1} {
		if len(got[typ]) != n {
			t.Errorf("%s: %d sent, want %d", typ, len(got[typ]), n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	inv := got[notifyd.TypeInvitation][0]
	paris, _ := time.LoadLocation("Europe/Paris")
	if s := inv.Scheduling; s.Method != "REQUEST" || s.Updated || s.TimeZone != "Europe/Paris" ||
		!strings.Contains(s.ICalendar, "METHOD:REQUEST") || s.Object != testInbox+"req.ics" {
		t.Errorf("invitation %+v: want a REQUEST with its iCalendar", s)
	}
	if inv.From.CommonName != "Fred Flintstone" || inv.Event.Summary != "Budget meeting" || inv.Event.Location != "Room 4" ||
		!inv.Event.Start.Equal(time.Date(2030, 1, 15, 9, 0, 0, 0, paris)) || !inv.Event.End.Equal(time.Date(2030, 1, 15, 10, 0, 0, 0, paris)) {
		t.Errorf("invitation from %+v event %+v", inv.From, inv.Event)
	}
	if rep := got[notifyd.TypeInvitationReply][0]; rep.From.CommonName != "Carol" || rep.Scheduling.PartStat != "declined" {
		t.Errorf("reply from %+v partstat %q, want Carol declined", rep.From, rep.Scheduling.PartStat)
	}
	if ref := got[notifyd.TypeRefreshRequest][0]; ref.From.Href != "mailto:dave@example.org" {
		t.Errorf("refresh from %+v, want dave", ref.From)
	}
	// The organizer changes the meeting: an updated invitation.
	d.deliver("req2", itip("REQUEST", fredOrganizer, wilmaAttendee))
	r.syncCalendars(t)
	r.settle(t)
	if invs := r.sentByType()[notifyd.TypeInvitation]; len(invs) != 2 || !invs[1].Scheduling.Updated {
		t.Errorf("after a second REQUEST: %d invitations, want 2, the second updated", len(invs))
	}
	if len(d.deleted) != 0 || len(d.fakeDAV.deleted) != 0 {
		t.Errorf("deleted %v %v: notifyd deleted inbox items", d.deleted, d.fakeDAV.deleted)
	}
}

// Malformed and hostile items are skipped (the others are sent), and not
// read again; a message the principal sent itself is not sent to it.
func TestInboxBadMessagesSkipped(t *testing.T) {
	t.Parallel()
	r, d := newInboxRig(t)
	d.addrs = []string{"mailto:Wilma@Example.org"}
	r.syncCalendars(t)
	d.deliver("garbage", "this is not iCalendar")
	d.deliver("nomethod", strings.Replace(itip("REQUEST", fredOrganizer), "METHOD:REQUEST\r\n", "", 1))
	d.deliver("noorganizer", itip("REQUEST", wilmaAttendee))
	d.deliver("publish", itip("PUBLISH", fredOrganizer))
	d.deliver("deep", "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n"+strings.Repeat("BEGIN:X\r\n", 50)+strings.Repeat("END:X\r\n", 50)+"END:VCALENDAR\r\n")
	d.deliver("own", itip("REPLY", fredOrganizer, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:wilma@example.org"))
	d.deliver("good", itip("REQUEST", fredOrganizer, wilmaAttendee))
	r.syncCalendars(t)
	r.settle(t)
	if got := r.sentByType(); len(got) != 1 || len(got[notifyd.TypeInvitation]) != 1 {
		t.Fatalf("sent %v, want the one good invitation", got)
	}
	d.imu.Lock()
	d.n++ // the listing shows a change: the inbox is synced again
	d.imu.Unlock()
	before := d.multiget
	r.syncCalendars(t)
	r.settle(t)
	if d.multiget != before {
		t.Errorf("the skipped items were read again")
	}
}

// A sync that fails half way records nothing: the next one sends each
// message once.
func TestInboxNothingHalfRecorded(t *testing.T) {
	t.Parallel()
	r, d := newInboxRig(t)
	r.syncCalendars(t)
	d.deliver("req", itip("REQUEST", fredOrganizer, wilmaAttendee))
	d.imu.Lock()
	d.failGet = &caldavclient.HTTPError{Method: "REPORT", URL: testInbox, Status: 400}
	d.imu.Unlock()
	r.syncCalendars(t)
	r.settle(t)
	if rec, err := r.db.ScheduleInbox(context.Background(), "cal", principal); err != nil || rec == nil || rec.SyncToken != "0" {
		t.Fatalf("inbox record %+v %v, want the first sync's token", rec, err)
	}
	items, err := r.db.InboxItems(context.Background(), "cal", principal)
	if err != nil || len(items) != 0 {
		t.Fatalf("items %v %v after a failed sync, want none", items, err)
	}
	d.imu.Lock()
	d.failGet = nil
	d.imu.Unlock()
	r.syncCalendars(t)
	r.settle(t)
	r.syncCalendars(t)
	r.settle(t)
	if got := r.sentByType(); len(got[notifyd.TypeInvitation]) != 1 {
		t.Errorf("sent %v, want one invitation", got)
	}
	log := r.deliveryLog(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent {
		t.Errorf("delivery log %+v", log)
	}
}

// A message the principal sent itself (its own address as the replying
// attendee) is not sent to it: the delivery is recorded as suppressed,
// with why, unless the subscription asks for its own changes.
func TestInboxOwnMessageSuppressed(t *testing.T) {
	t.Parallel()
	var d *inboxDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		d = &inboxDAV{calendarDAV: &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}}
		o.Systems[0].CalDAV = d
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	d.addrs = []string{"mailto:Wilma@Example.org"}
	yes := true
	for addr, own := range map[string]*bool{"quiet@example.org": nil, "all@example.org": &yes} {
		in := subscriptions.Input{System: "cal", Principal: principal, NotifyOwnChanges: own,
			Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: addr}}}
		if _, err := r.subs.Create(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	r.syncCalendars(t)
	d.deliver("own", itip("REPLY", fredOrganizer, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:wilma@example.org"))
	r.syncCalendars(t)
	log := byAddress(r.settle(t))
	if q := log["quiet@example.org"]; q.Status != store.DeliverySuppressed || !strings.Contains(q.LastError, "notify_own_changes") {
		t.Errorf("without notify_own_changes: %s %q, want suppressed with why", q.Status, q.LastError)
	}
	if a := log["all@example.org"]; a.Status != store.DeliverySent {
		t.Errorf("with notify_own_changes: %s, want sent", a.Status)
	}
	if got := r.email.sentTo(); len(got) != 1 || got[0] != "all@example.org" {
		t.Errorf("sent to %v", got)
	}
}

// A principal whose subscription wants invitations only (no reminders)
// has its inbox synced when pinged.
func TestInboxWithoutReminders(t *testing.T) {
	t.Parallel()
	var d *inboxDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		d = &inboxDAV{calendarDAV: &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}}
		o.Systems[0].CalDAV = d
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	in := subscriptions.Input{System: "cal", Principal: principal, Types: []notifyd.NotificationType{notifyd.TypeInvitation},
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "wilma@example.org"}}}
	if _, err := r.subs.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	r.syncCalendars(t)
	d.deliver("req", itip("REQUEST", fredOrganizer, wilmaAttendee))
	d.deliver("cancel", itip("CANCEL", fredOrganizer, wilmaAttendee))
	r.syncCalendars(t)
	r.settle(t)
	if got := r.sentByType(); len(got) != 1 || len(got[notifyd.TypeInvitation]) != 1 {
		t.Errorf("sent %v, want the invitation alone (the cancellation is not wanted)", got)
	}
}
