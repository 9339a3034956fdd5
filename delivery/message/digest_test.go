package message

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
)

// item is a digest item: a notification of type typ about uid (an
// update's or a scheduling message's, by typ) in calendar cal, with an
// update's changed fields.
func item(id, cal string, typ notifyd.NotificationType, uid string, fields ...notifyd.FieldChange) delivery.DigestItem {
	n := &notifyd.Notification{Type: typ, Calendar: notifyd.Collection{Href: "/cal/" + cal + "/", DisplayName: cal}}
	switch {
	case IsUpdate(typ):
		comp, action, _ := strings.Cut(string(typ), "-")
		n.Update = &notifyd.Update{Component: comp, Action: action, UID: uid, Fields: fields}
		if comp != "calendar" {
			n.Update.Object = "/cal/" + cal + "/" + uid + ".ics"
			n.Event = &notifyd.Event{UID: uid, Summary: uid + " (" + id + ")"}
		}
	case IsScheduling(typ):
		n.Scheduling = &notifyd.Scheduling{UID: uid}
		n.Event = &notifyd.Event{UID: uid, Summary: uid}
	case typ == notifyd.TypeReminder:
		n.Reminder = &notifyd.Reminder{Calendar: "/cal/" + cal + "/", UID: uid}
		n.Calendar = notifyd.Collection{}
	}
	return delivery.DigestItem{DeliveryID: id, Notification: n}
}

// field is a text field's change.
func field(name, from, to string) notifyd.FieldChange {
	return notifyd.FieldChange{Field: name, From: from, To: to}
}

// occurrence makes it about one occurrence of its event.
func occurrenceOf(it delivery.DigestItem, rid string) delivery.DigestItem {
	it.Notification.Update.RecurrenceID = rid
	return it
}

// by says who made the change.
func by(it delivery.DigestItem, name string) delivery.DigestItem {
	it.Notification.Update.By = notifyd.Person{CommonName: name}
	return it
}

// updated marks a scheduling message as an update of an invitation;
// from sets an attendee.
func updated(it delivery.DigestItem) delivery.DigestItem {
	it.Notification.Scheduling.Updated = true
	return it
}

func attendee(it delivery.DigestItem, who string) delivery.DigestItem {
	it.Notification.Scheduling.Attendee = notifyd.Person{Href: "mailto:" + who}
	return it
}

// describe writes a digest as the test compares it: per group, its name
// and entries ("ids type uid: field from>to, …").
func describe(d Digest) []string {
	var out []string
	for _, g := range d.Groups {
		for _, e := range g.Entries {
			n := e.Notification
			s := fmt.Sprintf("%s: %s %s", g.Name, strings.Join(e.DeliveryIDs, ","), n.Type)
			if uid := eventUID(n); uid != "" {
				s += " " + uid
			}
			if n.Update != nil {
				if n.Update.RecurrenceID != "" {
					s += "@" + n.Update.RecurrenceID
				}
				for _, f := range n.Update.Fields {
					s += fmt.Sprintf(" %s=%s>%s", f.Field, f.From, f.To)
				}
				if n.Update.By.CommonName != "" {
					s += " by " + n.Update.By.CommonName
				}
			}
			if n.Scheduling != nil && n.Scheduling.Updated {
				s += " (updated)"
			}
			out = append(out, s)
		}
	}
	return out
}

// A digest says each event once, in its latest state, grouped by
// calendar, and nothing of what was undone inside its window.
func TestCollapse(t *testing.T) {
	for _, tc := range []struct {
		name       string
		items      []delivery.DigestItem
		want       []string
		wantUndone []string
	}{
		{"nothing", nil, nil, nil},
		{"one change stays as it is",
			[]delivery.DigestItem{item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2"))},
			[]string{"Work: 1 event-modified a location=R1>R2"}, nil},
		{"changed several times: one change, first value to last",
			[]delivery.DigestItem{
				by(item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")), "Fred"),
				by(item("2", "Work", notifyd.TypeEventModified, "a", field("summary", "Standup", "Daily"), field("location", "R2", "R3")), "Fred"),
			},
			[]string{"Work: 1,2 event-modified a location=R1>R3 summary=Standup>Daily by Fred"}, nil},
		{"changed by two people: who is not said",
			[]delivery.DigestItem{
				by(item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")), "Fred"),
				by(item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R2", "R3")), "Wilma"),
			},
			[]string{"Work: 1,2 event-modified a location=R1>R3"}, nil},
		{"a field back to its value is left out",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2"), field("summary", "A", "B")),
				item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R2", "R1")),
			},
			[]string{"Work: 1,2 event-modified a summary=A>B"}, nil},
		{"a change that nets to nothing: nothing",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")),
				item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R2", "R1")),
			},
			nil, []string{"1", "2"}},
		{"a time moved and moved back: nothing",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventModified, "a", notifyd.FieldChange{Field: "start", FromTime: utc(1, 9, 0), ToTime: utc(1, 10, 0)}),
				item("2", "Work", notifyd.TypeEventModified, "a", notifyd.FieldChange{Field: "start", FromTime: utc(1, 10, 0), ToTime: utc(1, 9, 0).In(time.FixedZone("X", 3600))}),
			},
			nil, []string{"1", "2"}},
		{"created then deleted: nothing",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventCreated, "a"),
				item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")),
				item("3", "Work", notifyd.TypeEventDeleted, "a"),
			},
			nil, []string{"1", "2", "3"}},
		{"created then changed: a creation in its latest state",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeTodoCreated, "a"),
				item("2", "Work", notifyd.TypeTodoModified, "a", field("summary", "A", "B")),
			},
			[]string{"Work: 1,2 todo-created a"}, nil},
		{"changed then deleted: one deletion",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")),
				item("2", "Work", notifyd.TypeEventDeleted, "a"),
			},
			[]string{"Work: 1,2 event-deleted a"}, nil},
		{"deleted then created again: a change",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventDeleted, "a"),
				item("2", "Work", notifyd.TypeEventCreated, "a"),
			},
			[]string{"Work: 1,2 event-modified a"}, nil},
		{"an occurrence changed, then the whole event deleted: one deletion",
			[]delivery.DigestItem{
				occurrenceOf(item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")), "20261201T090000Z"),
				item("2", "Work", notifyd.TypeEventDeleted, "a"),
			},
			[]string{"Work: 2 event-deleted a"}, []string{"1"}},
		{"occurrences are told apart",
			[]delivery.DigestItem{
				occurrenceOf(item("1", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")), "20261201T090000Z"),
				occurrenceOf(item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R3")), "20261208T090000Z"),
			},
			[]string{"Work: 1 event-modified a@20261201T090000Z location=R1>R2", "Work: 2 event-modified a@20261208T090000Z location=R1>R3"}, nil},
		{"an event moved to another calendar: under its new calendar",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventModified, "a", field("summary", "A", "B")),
				item("2", "Home", notifyd.TypeEventModified, "a", field("calendar", "Work", "Home")),
			},
			[]string{"Home: 1,2 event-modified a summary=A>B calendar=Work>Home"}, nil},
		{"calendars in the order they came; an event's entries together",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeEventCreated, "a"),
				item("2", "Home", notifyd.TypeEventCreated, "b"),
				item("3", "Work", notifyd.TypeEventDeleted, "c"),
				item("4", "Work", notifyd.TypeReminder, "a"),
				item("5", "Work", notifyd.TypeEventModified, "a", field("location", "", "R1")),
			},
			[]string{"Work: 1,5 event-created a", "Work: 4 reminder a", "Work: 3 event-deleted c", "Home: 2 event-created b"}, nil},
		{"a calendar created then deleted: nothing; renamed twice: one rename",
			[]delivery.DigestItem{
				item("1", "Tmp", notifyd.TypeCalendarCreated, ""),
				item("2", "Tmp", notifyd.TypeCalendarDeleted, ""),
				item("3", "Work", notifyd.TypeCalendarModified, "", field("summary", "Job", "Office")),
				item("4", "Work", notifyd.TypeCalendarModified, "", field("summary", "Office", "Work")),
			},
			[]string{"Work: 3,4 calendar-modified summary=Job>Work"}, []string{"1", "2"}},
		{"notifications without an identity stay as they are, without a calendar last",
			[]delivery.DigestItem{
				{DeliveryID: "1", Notification: &notifyd.Notification{Type: notifyd.TypeSystemStatus}},
				item("2", "Work", notifyd.TypeShareInvite, ""),
				item("3", "Work", notifyd.TypeShareInvite, ""),
				item("4", "Work", notifyd.TypeReminder, "a"),
				item("5", "Work", notifyd.TypeReminder, "a"),
			},
			[]string{"Work: 2 share-invite", "Work: 3 share-invite", "Work: 4 reminder a", "Work: 5 reminder a", ": 1 system-status"}, nil},
		{"an update without its identity stays as it is",
			[]delivery.DigestItem{
				{DeliveryID: "1", Notification: &notifyd.Notification{Type: notifyd.TypeEventModified}},
				{DeliveryID: "2", Notification: &notifyd.Notification{Type: notifyd.TypeEventModified}},
			},
			[]string{": 1 event-modified", ": 2 event-modified"}, nil},
		{"an invitation then withdrawn: nothing",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeInvitation, "a"),
				item("2", "Work", notifyd.TypeInvitationCancelled, "a"),
			},
			nil, []string{"1", "2"}},
		{"an invitation updated: still new, in its latest form",
			[]delivery.DigestItem{
				item("1", "Work", notifyd.TypeInvitation, "a"),
				updated(item("2", "Work", notifyd.TypeInvitation, "a")),
			},
			[]string{"Work: 1,2 invitation a"}, nil},
		{"an invitation known before, updated then cancelled: the cancellation",
			[]delivery.DigestItem{
				updated(item("1", "Work", notifyd.TypeInvitation, "a")),
				item("2", "Work", notifyd.TypeInvitationCancelled, "a"),
			},
			[]string{"Work: 1,2 invitation-cancelled a"}, nil},
		{"each attendee's latest reply",
			[]delivery.DigestItem{
				attendee(item("1", "Work", notifyd.TypeInvitationReply, "a"), "wilma@example.org"),
				attendee(item("2", "Work", notifyd.TypeInvitationReply, "a"), "barney@example.org"),
				attendee(item("3", "Work", notifyd.TypeInvitationReply, "a"), "Wilma@example.org"),
			},
			[]string{"Work: 1,3 invitation-reply a", "Work: 2 invitation-reply a"}, nil},
		{"items without a notification are skipped",
			[]delivery.DigestItem{{DeliveryID: "1"}, item("2", "Work", notifyd.TypeEventDeleted, "a")},
			[]string{"Work: 2 event-deleted a"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Collapse(tc.items)
			if got := describe(d); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries:\n got %q\nwant %q", got, tc.want)
			}
			if !reflect.DeepEqual(d.Undone, tc.wantUndone) {
				t.Errorf("undone: got %q, want %q", d.Undone, tc.wantUndone)
			}
			if d.Entries != len(tc.want) {
				t.Errorf("Entries = %d, want %d", d.Entries, len(tc.want))
			}
		})
	}
}

// Collapsing never modifies the items: the engine may hold them for
// another method.
func TestCollapseLeavesItemsAlone(t *testing.T) {
	items := []delivery.DigestItem{
		by(item("1", "Work", notifyd.TypeEventCreated, "a"), "Fred"),
		by(item("2", "Work", notifyd.TypeEventModified, "a", field("location", "R1", "R2")), "Wilma"),
		item("3", "Work", notifyd.TypeEventModified, "b", field("location", "R1", "R2")),
		item("4", "Work", notifyd.TypeEventModified, "b", field("summary", "A", "B")),
		item("5", "Work", notifyd.TypeInvitation, "c"),
		updated(item("6", "Work", notifyd.TypeInvitation, "c")),
	}
	before := fmt.Sprintf("%+v", snapshot(items))
	Collapse(items)
	if after := fmt.Sprintf("%+v", snapshot(items)); after != before {
		t.Errorf("items changed:\n%s\n%s", before, after)
	}
}

// snapshot copies what items point to.
func snapshot(items []delivery.DigestItem) []any {
	var out []any
	for _, it := range items {
		n := *it.Notification
		out = append(out, n)
		if n.Update != nil {
			out = append(out, *n.Update)
		}
		if n.Scheduling != nil {
			out = append(out, *n.Scheduling)
		}
	}
	return out
}
