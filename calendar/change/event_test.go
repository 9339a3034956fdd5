package change

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// Event is what a notification shows of the event or instance updated.
func TestEvent(t *testing.T) {
	opts := Options{Location: berlin, Object: "/c/e.ics"}
	obj := parse(t, join(weeklyMaster("LOCATION:Room 1"), moved19), berlin)
	utc := func(s string) time.Time { return parseTime(t, s) }
	for _, c := range []struct {
		name string
		rid  string
		want notifyd.Event
	}{
		{"the series", "", notifyd.Event{Href: "/c/e.ics", UID: "e", Summary: "Jour fixe", Location: "Room 1",
			Start: utc("2026-05-12T08:00"), End: utc("2026-05-12T09:00")}},
		{"an override", "20260519T080000Z", notifyd.Event{Href: "/c/e.ics", UID: "e", Summary: "Jour fixe",
			Start: utc("2026-05-19T12:00"), End: utc("2026-05-19T13:00")}},
		{"an instance of the master", "20260526T080000Z", notifyd.Event{Href: "/c/e.ics", UID: "e", Summary: "Jour fixe",
			Location: "Room 1", Start: utc("2026-05-26T08:00"), End: utc("2026-05-26T09:00")}},
	} {
		if got := Event(obj, notifyd.Update{UID: "e", RecurrenceID: c.rid}, opts); got != c.want {
			t.Errorf("%s: Event = %+v, want %+v", c.name, got, c.want)
		}
	}
	todo := parse(t, task("SUMMARY:Report", "DUE;VALUE=DATE:20260515"), berlin)
	want := notifyd.Event{Href: "/c/e.ics", UID: "t", Summary: "Report", Due: utc("2026-05-15T00:00"), AllDay: true}
	if got := Event(todo, notifyd.Update{UID: "t"}, opts); got != want {
		t.Errorf("task: Event = %+v, want %+v", got, want)
	}
	if got := Event(nil, notifyd.Update{UID: "x"}, opts); got != (notifyd.Event{Href: "/c/e.ics", UID: "x"}) {
		t.Errorf("nil object: %+v", got)
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Type names the nine update types.
func TestType(t *testing.T) {
	for _, c := range []struct {
		component, action string
		want              notifyd.NotificationType
	}{
		{"event", Created, notifyd.TypeEventCreated},
		{"todo", Modified, notifyd.TypeTodoModified},
		{"calendar", Deleted, notifyd.TypeCalendarDeleted},
		{"event", "moved", notifyd.TypeOther},
		{"journal", Created, notifyd.TypeOther},
	} {
		if got := Type(notifyd.Update{Component: c.component, Action: c.action}); got != c.want {
			t.Errorf("Type(%s %s) = %s, want %s", c.component, c.action, got, c.want)
		}
	}
}
