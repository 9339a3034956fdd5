package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// eventStart is when the events published in these tests start: in an
// hour, so that their alarms are not too late to ring.
var eventStart = time.Now().Add(time.Hour).UTC().Truncate(time.Second)

// eventICS is the event published in these tests, an hour long, with one
// alarm.
func eventICS(uid, summary string) string {
	return eventICSAt(uid, summary, eventStart)
}

// eventICSAt is eventICS starting at start.
func eventICSAt(uid, summary string, start time.Time) string {
	const f = "20060102T150405Z"
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20261130T080000Z\r\nDTSTART:" + start.Format(f) + "\r\nDTEND:" + start.Add(time.Hour).Format(f) + "\r\nSUMMARY:" + summary +
		"\r\nLOCATION:Room 1\r\nBEGIN:VALARM\r\nUID:alarm-1\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Soon\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// reserialise writes the iCalendar ics out as another writer would: LF
// line ends, PRODID (another) before VERSION, SUMMARY first in its
// component, a new DTSTAMP, and every line longer than 20 bytes folded.
func reserialise(ics string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
		switch {
		case strings.HasPrefix(l, "PRODID:"):
			out = slices.Insert(out, len(out)-1, "PRODID:-//another writer//EN")
		case strings.HasPrefix(l, "SUMMARY:"):
			at := slices.IndexFunc(out, func(s string) bool { return strings.HasPrefix(s, "BEGIN:V") && s != "BEGIN:VCALENDAR" })
			out = slices.Insert(out, at+1, l)
		case strings.HasPrefix(l, "DTSTAMP:"):
			out = append(out, "DTSTAMP:20261201T101010Z")
		default:
			out = append(out, l)
		}
	}
	var b strings.Builder
	for _, l := range out {
		for len(l) > 20 {
			b.WriteString(l[:20] + "\n ")
			l = l[20:]
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// publish publishes pub for system cal and returns the result.
func publish(t *testing.T, p *engine.Publisher, pub engine.Publication) engine.PublishResult {
	t.Helper()
	pub.System = "cal"
	res, err := p.Publish(context.Background(), pub)
	if err != nil {
		t.Fatalf("publish %+v: %v", pub, err)
	}
	return res
}

// sentRequests is what c sent so far.
func sentRequests(c *fakeChannel) []*delivery.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*delivery.Request(nil), c.sent...)
}

func newPublisher(t *testing.T, r *rig) *engine.Publisher {
	p := engine.NewPublisher(r.db, r.eng.Queue())
	t.Cleanup(p.Close)
	return p
}

// A published alarm, change and reply go through the subscriptions and
// channels as every notification does, each once, as what it is.
func TestPublishedEventsDelivered(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyDelete)
	r.subscribe(t, principal, "wilma@example.org")
	p := newPublisher(t, r)
	publish(t, p, engine.Publication{Topic: "alarm", Principal: principal, CalID: "/dav/calendars/user/wilma/Default/",
		UID: "e1", AID: "alarm-1", Payload: eventICS("e1", "Standup"), ContentType: "text/calendar"})
	publish(t, p, engine.Publication{Topic: "enp:///ics/caleventmodify?uid=e1&rid=" + eventStart.Format("20060102T150405Z"), Principal: principal,
		TriggeredBy: "/dav/principals/user/fred/", Payload: eventICS("e1", "Standup moved"), ContentType: "text/calendar"})
	publish(t, p, engine.Publication{Topic: "event-reply", Principal: principal, UID: "e1", TriggeredBy: "mailto:fred@example.org",
		Payload: eventICS("e1", "Standup moved"), ContentType: "text/calendar"})
	log := r.settle(t)
	if len(log) != 3 {
		t.Fatalf("delivery log %+v, want 3 deliveries", log)
	}
	types := map[string]*notifyd.Notification{}
	sent := sentRequests(r.email)
	for _, req := range sent {
		types[string(req.Notification.Type)] = req.Notification
	}
	for _, d := range log {
		if d.Status != store.DeliverySent || d.Address != "wilma@example.org" || !strings.HasPrefix(d.NotificationHref, "enp:///ics/") {
			t.Errorf("delivery %+v", d)
		}
	}
	rem, mod, reply := types["reminder"], types["event-modified"], types["invitation-reply"]
	if rem == nil || mod == nil || reply == nil || len(sent) != 3 {
		t.Fatalf("sent %d: %v", len(sent), types)
	}
	if rem.Reminder == nil || rem.Reminder.UID != "e1" || rem.Reminder.AlarmID != "alarm-1" || rem.Reminder.Component != "event" ||
		rem.Reminder.Action != "DISPLAY" || rem.Reminder.Text != "Soon" || rem.Reminder.Calendar != "/dav/calendars/user/wilma/Default/" ||
		rem.Event == nil || rem.Event.Summary != "Standup" || !rem.Event.Start.Equal(eventStart) || rem.Reminder.LateSeconds != 0 {
		t.Errorf("reminder %+v, its reminder %+v, event %+v", rem, rem.Reminder, rem.Event)
	}
	if u := mod.Update; u == nil || u.Component != "event" || u.Action != "modified" || u.UID != "e1" ||
		u.RecurrenceID != eventStart.Format("20060102T150405Z") || u.By.Href != "/dav/principals/user/fred/" || len(u.Fields) != 0 ||
		mod.Event == nil || mod.Event.Summary != "Standup moved" {
		t.Errorf("update %+v, its update %+v", mod, mod.Update)
	}
	// The payload names no attendee: the reply is from triggered_by,
	// with no answer.
	if s := reply.Scheduling; s == nil || s.Method != notifyd.MethodReply || s.UID != "e1" || s.Attendee.Href != "" ||
		s.PartStat != "" || reply.From.Href != "mailto:fred@example.org" || reply.Event == nil || reply.Event.Summary != "Standup moved" {
		t.Errorf("reply %+v, its scheduling %+v", reply, reply.Scheduling)
	}
	// The after-delivery policy (delete) leaves the calendar server
	// alone: nothing on it is a published event.
	r.waitUntil(t, "finished", func() bool {
		n := 0
		r.db.Write(context.Background(), store.Lazy, func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT count(*) FROM notifications WHERE finished_at > 0`).Scan(&n)
		})
		return n == 3
	})
	if d := r.dav.count("DELETE"); d != 0 {
		t.Errorf("%d DELETE requests for published events", d)
	}
}

// A second publish of the same event is acknowledged as a duplicate and
// sends nothing again; a new modification of the same event is news.
func TestPublishDuplicate(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	r.subscribe(t, principal, "wilma@example.org")
	p := newPublisher(t, r)
	pub := engine.Publication{Topic: "event-modify", Principal: principal, UID: "e1", Payload: eventICS("e1", "A"), ContentType: "text/calendar"}
	first := publish(t, p, pub)
	again := publish(t, p, pub)
	if first.Duplicate || !again.Duplicate || first.ID != again.ID {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	// The publisher retries, writing the same version out anew: LF
	// line ends, a long line folded, properties in another order, a
	// new DTSTAMP. Still the same event.
	retry := pub
	retry.Payload = reserialise(pub.Payload)
	if res := publish(t, p, retry); !res.Duplicate || res.ID != first.ID {
		t.Fatalf("the same version serialised anew: %+v, want a duplicate of %s", res, first.ID)
	}
	// A second edit that changes what a person reads is news; so is
	// one that only the server's revision markers tell apart (an edit
	// of something the payload does not carry).
	pub.Payload = eventICS("e1", "B")
	if next := publish(t, p, pub); next.Duplicate || next.ID == first.ID {
		t.Fatalf("a new modification %+v", next)
	}
	bumped := pub
	bumped.Payload = strings.Replace(pub.Payload, "UID:e1\r\n", "UID:e1\r\nSEQUENCE:1\r\n", 1)
	if next := publish(t, p, bumped); next.Duplicate {
		t.Fatalf("a new SEQUENCE: %+v", next)
	}
	if log := r.settle(t); len(log) != 3 || len(sentRequests(r.email)) != 3 {
		t.Fatalf("log %+v, sent %d; want 3", log, len(sentRequests(r.email)))
	}
	// Published again after delivery: still nothing.
	if res := publish(t, p, pub); !res.Duplicate {
		t.Fatalf("after delivery: %+v", res)
	}
	if log := r.settle(t); len(log) != 3 || len(sentRequests(r.email)) != 3 {
		t.Fatalf("log %+v, sent %d; want 3", log, len(sentRequests(r.email)))
	}
}

// A change the principal made is not sent to it: the delivery log says
// suppressed, and why. A subscription with notify_own_changes gets it;
// an alarm is nobody's change.
func TestPublishOwnChangeSuppressed(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	ctx := context.Background()
	r.subscribe(t, principal, "wilma@example.org")
	own := true
	if _, err := r.subs.Create(ctx, subscriptions.Input{System: "cal", Principal: principal, NotifyOwnChanges: &own,
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "wilma-all@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	if err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		return store.SetCalendarUserAddresses(ctx, tx, store.PrincipalKey{System: "cal", Principal: principal},
			[]string{"mailto:wilma@example.org", "urn:uuid:w-1"})
	}); err != nil {
		t.Fatal(err)
	}
	p := newPublisher(t, r)
	for i, by := range []string{"/dav/principals/user/wilma", "MAILTO:Wilma@Example.org", "urn:uuid:w-1"} {
		publish(t, p, engine.Publication{Topic: "event-create", Principal: principal, UID: "own-" + string(rune('a'+i)), TriggeredBy: by})
	}
	publish(t, p, engine.Publication{Topic: "event-create", Principal: principal, UID: "fred-1", TriggeredBy: "/dav/principals/user/fred"})
	publish(t, p, engine.Publication{Topic: "alarm", Principal: principal, UID: "own-a", AID: "a1", TriggeredBy: principal})
	log := r.settle(t)
	var suppressed, sent int
	for _, d := range log {
		switch d.Status {
		case store.DeliverySuppressed:
			suppressed++
			if d.Address != "wilma@example.org" || !strings.Contains(d.LastError, "made this change") ||
				!strings.Contains(d.LastError, "notify_own_changes") {
				t.Errorf("suppressed %+v", d)
			}
		case store.DeliverySent:
			sent++
		default:
			t.Errorf("delivery %+v", d)
		}
	}
	// Three own changes: suppressed for one subscription, sent to the
	// other; fred's change and the alarm: sent to both.
	if suppressed != 3 || sent != 3+2+2 || len(sentRequests(r.email)) != 7 {
		t.Fatalf("suppressed %d, sent %d (%d sent by the channel); log %+v", suppressed, sent, len(sentRequests(r.email)), log)
	}
}

// Without a principal, the calendar's owner is found among the calendars
// notifyd syncs; a calendar it does not know (or several principals have)
// is refused and nothing is recorded.
func TestPublishResolvesCalendarOwner(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep)
	ctx := context.Background()
	r.subscribe(t, principal, "wilma@example.org")
	record := func(owner, href, name string) {
		t.Helper()
		cal := store.CalendarRecord{System: "cal", Principal: owner, Href: href, DisplayName: name}
		if err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			_, err := store.RecordCalendar(ctx, tx, store.CalendarChange{System: "cal", Principal: owner, CalendarHref: href, Calendar: &cal, Now: time.Now()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	record(principal, "/dav/calendars/user/wilma/Default/", "Wilma's")
	record("/dav/principals/user/fred/", "/dav/calendars/user/shared/", "Shared")
	record("/dav/principals/user/barney/", "/dav/calendars/user/shared/", "Shared")
	p := newPublisher(t, r)
	res := publish(t, p, engine.Publication{Topic: "event-delete", CalID: "/dav/calendars/user/wilma/Default", UID: "e9"})
	if res.Principal != principal || res.Type != notifyd.TypeEventDeleted {
		t.Fatalf("publish to a known calendar: %+v", res)
	}
	for calid, want := range map[string]string{
		"/dav/calendars/user/nobody/": "names no calendar notifyd knows",
		"/dav/calendars/user/shared/": "several principals",
		"wilma:work":                  "is not a calendar href",
	} {
		_, err := p.Publish(ctx, engine.Publication{System: "cal", Topic: "event-delete", CalID: calid, UID: "e9"})
		var verr notifyd.ValidationError
		if !errors.Is(err, engine.ErrUnknownCalendar) || !errors.As(err, &verr) || verr[0].Field != "/calid" || !strings.Contains(verr[0].Detail, want) {
			t.Errorf("calid %s: %v, want ErrUnknownCalendar saying %q", calid, err, want)
		}
	}
	log := r.settle(t)
	if len(log) != 1 || log[0].Status != store.DeliverySent || sentRequests(r.email)[0].CalendarName != "Wilma's" {
		t.Fatalf("log %+v", log)
	}
}

// A published alarm whose job ran late (the jobs were stopped) is sent
// within each channel's reminder grace only, and not once its event has
// ended: the others are in the delivery log as skipped, saying why.
func TestPublishedAlarmLate(t *testing.T) {
	t.Parallel()
	r := newRig(t, engine.PolicyKeep, func(o *engine.Options) {
		o.Reminders.Grace = map[notifyd.Channel]time.Duration{notifyd.ChannelEmail: time.Hour}
	})
	r.subscribe(t, principal, "wilma@example.org")
	p := newPublisher(t, r)
	received := time.Now()
	p.SetClockForTest(func() time.Time { return received })
	received = time.Now().Add(-30 * time.Minute) // within the grace: sent, 30 minutes late
	publish(t, p, engine.Publication{Topic: "alarm", Principal: principal, UID: "in-grace", AID: "a",
		Payload: eventICS("in-grace", "In grace"), ContentType: "text/calendar"})
	received = time.Now().Add(-2 * time.Hour) // beyond it
	publish(t, p, engine.Publication{Topic: "alarm", Principal: principal, UID: "too-late", AID: "a",
		Payload: eventICS("too-late", "Too late"), ContentType: "text/calendar"})
	received = time.Now()
	publish(t, p, engine.Publication{Topic: "alarm", Principal: principal, UID: "ended", AID: "a",
		Payload: eventICSAt("ended", "Ended", time.Now().Add(-3*time.Hour)), ContentType: "text/calendar"})
	log := r.settle(t)
	byHref := map[string]store.DeliveryListItem{}
	for _, d := range log {
		byHref[d.NotificationHref[strings.Index(d.NotificationHref, "uid="):]] = d
	}
	sent := sentRequests(r.email)
	if d := byHref["uid=in-grace"]; d.Status != store.DeliverySent || len(sent) != 1 || sent[0].Notification.Reminder.LateSeconds < 29*60 {
		t.Errorf("in grace: %+v, sent %d", d, len(sent))
	}
	if d := byHref["uid=too-late"]; d.Status != store.DeliverySkipped || !strings.Contains(d.LastError, "beyond the email grace of 1h0m0s") {
		t.Errorf("too late: %+v", d)
	}
	if d := byHref["uid=ended"]; d.Status != store.DeliverySkipped || !strings.Contains(d.LastError, "the event ended") {
		t.Errorf("ended: %+v", d)
	}
}
