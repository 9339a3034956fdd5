package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/subscriptions"
)

// What wilma, with whom fred shares his calendar, is told of fred's
// changes: nothing for the first sync or a re-save, one message per net
// change of an event or a task, with what changed; fred, whose own
// changes they may be (the server does not say who made them), is told
// nothing.
func TestUpdatesOfASharedCalendar(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, time.Hour)
	seen := 0
	dav.put(fred, "work", "lunch", "SUMMARY:Lunch", "DTSTART:20270105T120000Z", "DTEND:20270105T130000Z")
	r.syncBoth(t)
	if got := r.tell(t, &seen); len(got) != 0 {
		t.Fatalf("first sync told:\n%s", describe(got))
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"created", func() {
			dav.put(fred, "work", "meeting", "SUMMARY:Budget", "DTSTART:20270106T090000Z", "DTEND:20270106T100000Z")
			dav.put(fred, "work", "task-report", "SUMMARY:Report", "DUE:20270107T170000Z")
		}, "event-created Budget\ntodo-created Report"},
		{"moved, retitled, completed; a re-save", func() {
			dav.put(fred, "work", "meeting", "SUMMARY:Budget review", "DTSTART:20270106T140000Z", "DTEND:20270106T150000Z")
			dav.put(fred, "work", "task-report", "SUMMARY:Report", "DUE:20270107T170000Z", "STATUS:COMPLETED")
			dav.put(fred, "work", "lunch", "SUMMARY:Lunch", "DTSTART:20270105T120000Z", "DTEND:20270105T130000Z") // new DTSTAMP only
		}, "event-modified Budget review [start 09:00→14:00] [end 10:00→15:00] [summary Budget→Budget review]\n" +
			"todo-modified Report [completed →completed]"},
		{"cancelled", func() {
			dav.put(fred, "work", "meeting", "SUMMARY:Budget review", "DTSTART:20270106T140000Z", "DTEND:20270106T150000Z", "STATUS:CANCELLED")
		}, "event-modified Budget review [status CONFIRMED→CANCELLED]"},
		{"deleted", func() {
			dav.remove(fred, "work", "meeting")
			dav.remove(fred, "work", "task-report")
		}, "event-deleted Budget review\ntodo-deleted Report"},
		{"a burst of edits", func() {
			dav.put(fred, "work", "lunch", "SUMMARY:Lunch with Barney", "DTSTART:20270105T120000Z", "DTEND:20270105T130000Z")
			r.syncBoth(t)
			dav.put(fred, "work", "lunch", "SUMMARY:Lunch with Betty", "DTSTART:20270105T123000Z", "DTEND:20270105T133000Z")
		}, "event-modified Lunch with Betty [start 12:00→12:30] [end 13:00→13:30] [summary Lunch→Lunch with Betty]"},
		{"created then deleted, edited then reverted", func() {
			dav.put(fred, "work", "drinks", "SUMMARY:Drinks", "DTSTART:20270108T180000Z")
			dav.put(fred, "work", "lunch", "SUMMARY:Lunch", "DTSTART:20270105T120000Z", "DTEND:20270105T130000Z")
			r.syncBoth(t)
			dav.remove(fred, "work", "drinks")
			dav.put(fred, "work", "lunch", "SUMMARY:Lunch with Betty", "DTSTART:20270105T123000Z", "DTEND:20270105T133000Z")
		}, ""},
		{"calendar renamed", func() { dav.calendar(fred, "work", "Team") }, "calendar-modified Team [summary Work→Team]"},
		{"calendar deleted", func() { dav.dropCalendar(fred, "work") }, "calendar-deleted Team"},
	}
	for _, s := range steps {
		s.do()
		r.syncBoth(t)
		if got := describe(r.tell(t, &seen)); got != s.want {
			t.Errorf("%s: told\n%s\nwant\n%s", s.name, got, s.want)
		}
	}
	cals, err := r.db.Calendars(context.Background(), "cal", wilma)
	if err != nil || len(cals) != 0 {
		t.Errorf("wilma's calendars after the deletion: %+v, %v; want none", cals, err)
	}
	if len(r.dav.deleted) != 0 {
		t.Errorf("deleted %v: the after-delivery policy deleted what an update was about", r.dav.deleted)
	}
}

// A whole sync after the server refused the calendar's sync token records
// the calendar as it is and tells nothing: what changed meanwhile cannot
// be told apart from what notifyd had not seen.
func TestUpdatesNothingAfterARefusedToken(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, time.Hour)
	seen := 0
	dav.put(fred, "work", "lunch", "SUMMARY:Lunch", "DTSTART:20270105T120000Z")
	r.syncBoth(t)
	dav.mu.Lock()
	dav.refuse = true
	dav.mu.Unlock()
	dav.put(fred, "work", "lunch", "SUMMARY:Lunch with Betty", "DTSTART:20270105T120000Z")
	dav.put(fred, "work", "drinks", "SUMMARY:Drinks", "DTSTART:20270105T180000Z")
	r.syncBoth(t)
	if got := r.tell(t, &seen); len(got) != 0 {
		t.Fatalf("a whole resync told:\n%s", describe(got))
	}
	dav.mu.Lock()
	dav.refuse = false
	dav.mu.Unlock()
	dav.put(fred, "work", "drinks", "SUMMARY:Drinks at 7", "DTSTART:20270105T190000Z")
	r.syncBoth(t)
	if got := describe(r.tell(t, &seen)); got != "event-modified Drinks at 7 [start 18:00→19:00] [end 18:00→19:00] [summary Drinks→Drinks at 7]" {
		t.Errorf("after the resync, told\n%s\nwant the change made since", got)
	}
}

// wilma's sharing invitation makes fred's calendar hers to hear of; the
// invitation rewritten with no access (fred stopped sharing) makes it no
// longer, without a calendar-deleted: the calendar still exists.
func TestUpdatesSharingFollowsTheInvitation(t *testing.T) {
	t.Parallel()
	r, _ := newUpdatesRig(t, time.Hour)
	r.unshare(t, wilma, sharedURL(fred, "work"))
	seen := 0
	wilmas := func() []string {
		cals, err := r.db.Calendars(context.Background(), "cal", wilma)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cals {
			out = append(out, fmt.Sprintf("%s sharee=%v", c.Href, c.Sharee))
		}
		return out
	}
	r.syncPrincipalCalendars(t, wilma)
	if got := wilmas(); len(got) != 0 {
		t.Fatalf("wilma's calendars before the invitation: %v", got)
	}
	invite := inviteTo("invite-1", sharedURL(fred, "work"))
	r.dav.add("invite-1.xml", []byte(invite))
	r.syncPrincipalCalendars(t, wilma)
	if got := fmt.Sprint(wilmas()); got != "["+calHref(fred, "work")+" sharee=true]" {
		t.Fatalf("wilma's calendars after the invitation: %s, want fred's work, shared", got)
	}
	r.dav.add("invite-1.xml", []byte(strings.Replace(invite, "<CS:read-write/>", "<CS:no-access/>", 1)))
	r.syncPrincipalCalendars(t, wilma)
	if got := wilmas(); len(got) != 0 {
		t.Errorf("wilma's calendars once fred stopped sharing: %v, want none", got)
	}
	for _, n := range r.tell(t, &seen) {
		if n.Type != notifyd.TypeShareInvite {
			t.Errorf("told %s, want nothing but the invitations (a share is no change of the calendar)", n.Type)
		}
	}
}

// An event moved to another calendar within the window is one
// modification that names both calendars; each message links to the
// event in its owner's calendar, never to the service account's view.
func TestUpdatesMoveBetweenCalendars(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, time.Hour)
	dav.calendar(fred, "home", "Home")
	r.share(t, wilma, sharedURL(fred, "home"))
	seen := 0
	dav.put(fred, "work", "party", "SUMMARY:Party", "DTSTART:20270110T190000Z")
	r.syncBoth(t)
	r.tell(t, &seen)
	dav.remove(fred, "work", "party")
	dav.put(fred, "home", "party", "SUMMARY:Party", "DTSTART:20270110T190000Z")
	r.syncBoth(t)
	got := r.tell(t, &seen)
	if d := describe(got); d != "event-modified Party [calendar Work→Home]" {
		t.Fatalf("told\n%s\nwant one modification naming both calendars", d)
	}
	if h := got[0].Event.Href; h != sharedURL(fred, "home")+"party.ics" || got[0].Calendar.Href != sharedURL(fred, "home") {
		t.Errorf("links %s in %s, want the event in fred's calendar", h, got[0].Calendar.Href)
	}
}

// A burst whose window is still open when notifyd stops is told once
// after it starts again: nothing is lost, nothing sent twice.
func TestUpdatesRestartInsideTheWindow(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, 3*time.Second)
	dav.put(fred, "work", "lunch", "SUMMARY:Lunch", "DTSTART:20270105T120000Z")
	r.syncBoth(t)
	dav.put(fred, "work", "lunch", "SUMMARY:Lunch with Betty", "DTSTART:20270105T120000Z")
	r.syncPrincipalCalendars(t, wilma)
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.eng.Stop(stop); err != nil {
		t.Fatal(err)
	}
	r2 := newRigOn(t, r.db, "delete", func(o *engine.Options) {
		o.Systems[0].CalDAV = dav
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
		o.Updates = engine.UpdateOptions{Enabled: true, BurstWindow: 3 * time.Second}
	})
	r2.start(t)
	r2.waitUntil(t, "the update sent", func() bool { return len(r.email.sentTo())+len(r2.email.sentTo()) > 0 })
	r2.settle(t)
	if got, got2 := r.email.sentTo(), r2.email.sentTo(); len(got)+len(got2) != 1 {
		t.Errorf("sent %v before the restart and %v after, want one message", got, got2)
	}
	keys, err := r.db.PendingUpdateKeys(context.Background(), "cal", wilma)
	if err != nil || len(keys) != 0 {
		t.Errorf("pending %v, %v; want none", keys, err)
	}
}

// A ping naming the owner of a calendar (what Cyrus sends, whoever made
// the change) syncs the calendars of those it is shared with too.
func TestUpdatesPingOfTheOwnerSyncsTheSharees(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, time.Hour)
	seen := 0
	r.syncBoth(t)
	dav.put(fred, "work", "meeting", "SUMMARY:Budget", "DTSTART:20270106T090000Z")
	before := testdbCalendarSyncs(t, r, wilma)
	r.ping(t, fred)
	r.waitUntil(t, "wilma's calendars synced", func() bool { return testdbCalendarSyncs(t, r, wilma) > before })
	if got := describe(r.tell(t, &seen)); got != "event-created Budget" {
		t.Errorf("told\n%s\nwant the creation", got)
	}
}

// A subscription that asks for its principal's own changes
// (notify_own_changes) is told of the changes to the principal's own
// calendar, whose author the server does not name; one that does not is
// not (fred's, in every test).
func TestUpdatesOwnCalendarWithNotifyOwnChanges(t *testing.T) {
	t.Parallel()
	r, dav := newUpdatesRig(t, time.Hour)
	const barney = "/p/barney"
	dav.calendar(barney, "home", "Home")
	yes := true
	if _, err := r.subs.Create(context.Background(), subscriptions.Input{System: "cal", Principal: barney, NotifyOwnChanges: &yes,
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: "barney@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	r.syncPrincipalCalendars(t, barney)
	r.syncBoth(t)
	dav.put(barney, "home", "bowling", "SUMMARY:Bowling", "DTSTART:20270105T190000Z")
	dav.put(fred, "work", "golf", "SUMMARY:Golf", "DTSTART:20270105T190000Z")
	r.syncPrincipalCalendars(t, barney)
	r.syncPrincipalCalendars(t, fred)
	if _, err := r.eng.DueUpdatesNowForTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.settle(t)
	if got := fmt.Sprint(r.email.sentTo()); got != "[barney@example.org wilma@example.org]" {
		t.Errorf("sent to %s, want barney (his own calendar) and wilma (fred's, shared): not fred, "+
			"who does not ask for his own changes", got)
	}
}
