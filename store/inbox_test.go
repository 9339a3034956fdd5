package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// The poll also finds principals whose subscriptions want a scheduling
// message type (their inbox is synced with their calendars), and only
// those types: "invitation" does not match "invitation-reply" by accident.
func TestCalendarHomesToPollScheduling(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	for i, types := range [][]notifyd.NotificationType{
		{notifyd.TypeInvitationReply}, {notifyd.TypeCounterProposal}, {notifyd.TypeShareInvite}, {notifyd.TypeInvitation},
	} {
		s := sampleSub(fmt.Sprint("s", i))
		s.Principal, s.Types = fmt.Sprint("/principals/users/u", i), types
		if err := db.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	types := []string{"reminder"}
	for _, t := range notifyd.SchedulingTypes {
		types = append(types, string(t))
	}
	keys, err := db.CalendarHomesToPoll(ctx, at, 10, types)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(keys), "[{bedework /principals/users/u0} {bedework /principals/users/u1} {bedework /principals/users/u3}]"; got != want {
		t.Errorf("polled %s, want %s", got, want)
	}
}

// RecordInbox keeps the inbox's token and items in step with what a sync
// found, and adds a message's notification and deliveries once.
func TestRecordInbox(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := context.Background()
	sub := sampleSub("s")
	if err := db.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	key := PrincipalKey{System: "bedework", Principal: "/principals/users/fred"}
	record := func(c InboxChange) []string {
		t.Helper()
		c.Inbox.System, c.Inbox.Principal, c.Now = key.System, key.Principal, at
		var ids []string
		err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
			var err error
			ids, err = RecordInbox(ctx, tx, c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	items := func() string {
		t.Helper()
		got, err := db.InboxItems(ctx, key.System, key.Principal)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	if rec, err := db.ScheduleInbox(ctx, key.System, key.Principal); rec != nil || err != nil {
		t.Fatalf("before any sync: %+v %v", rec, err)
	}
	record(InboxChange{Inbox: InboxRecord{Href: "/in/", SyncToken: "t1", ListedTag: "sync-token:1"}, Fresh: true,
		Seen: []InboxItem{{Href: "/in/a.ics", ETag: `"1"`}, {Href: "/in/b.ics", ETag: `"2"`}}})
	n := NotificationRecord{ID: "n1", Href: "/in/c.ics", ETag: `"3"`, Type: string(notifyd.TypeInvitation), Parsed: []byte("{}")}
	d := DeliveryRecord{ID: "d1", NotificationID: "n1", SubscriptionID: "s", MethodID: "m_0000000000000001", Channel: "email", Address: "fred@example.org"}
	change := InboxChange{Inbox: InboxRecord{Href: "/in/", SyncToken: "t2", ListedTag: "sync-token:2"}, Removed: []string{"/in/a.ics"},
		Seen:          []InboxItem{{Href: "/in/c.ics", ETag: `"3"`, UID: "meet", Method: "REQUEST"}},
		Notifications: []NotificationRecord{n}, Deliveries: []DeliveryRecord{d}}
	if ids := record(change); fmt.Sprint(ids) != "[d1]" {
		t.Errorf("new deliveries %v, want [d1]", ids)
	}
	if ids := record(change); len(ids) != 0 {
		t.Errorf("the same message again: new deliveries %v, want none", ids)
	}
	if got, want := items(), `map[/in/b.ics:{/in/b.ics "2"  } /in/c.ics:{/in/c.ics "3" meet REQUEST}]`; got != want {
		t.Errorf("items %s, want %s", got, want)
	}
	rec, err := db.ScheduleInbox(ctx, key.System, key.Principal)
	if err != nil || rec.Href != "/in/" || rec.SyncToken != "t2" || rec.ListedTag != "sync-token:2" || !rec.SyncedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("inbox %+v %v", rec, err)
	}
	// Another inbox: its first sync replaces every item.
	record(InboxChange{Inbox: InboxRecord{Href: "/in2/"}, Fresh: true, Seen: []InboxItem{{Href: "/in2/x.ics", ETag: `"9"`}}})
	if got, want := items(), `map[/in2/x.ics:{/in2/x.ics "9"  }]`; got != want {
		t.Errorf("after another inbox: %s, want %s", got, want)
	}
}
