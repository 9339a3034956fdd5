package caldavclient

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// The calendars of others in a home come out of OthersCalendarsListedSince
// with their owner and CS:shared-url (as Cyrus shows the calendars shared
// with the reader), from the listing Calendars made; a calendar's
// description and colour come out of both.
func TestOthersCalendars(t *testing.T) {
	wilmaOwns := `<D:owner><D:href>/dav/principals/user/wilma/</D:href></D:owner>`
	listing := homeHead +
		member(notifierHome+"fred.work/", calType+fredOwns+`<D:displayname>Work</D:displayname>`+
			`<C:calendar-description>Team dates</C:calendar-description><A:calendar-color xmlns:A="http://apple.com/ns/ical/">#FF0000</A:calendar-color>`+
			`<CS:shared-url><D:href>/dav/calendars/user/fred/work/</D:href></CS:shared-url>`) +
		member(notifierHome+"wilma.home/", calType+wilmaOwns+`<D:displayname>Home</D:displayname>`+
			`<CS:shared-url><D:href>/dav/calendars/user/wilma/home/</D:href></CS:shared-url>`) + homeTail
	f := homeServer(t, func() string { return listing })
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	start := time.Now()
	own, err := c.CalendarsListedSince(ctx, fredPrincipal, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Calendar{{Href: notifierHome + "fred.work/", DisplayName: "Work", Owner: fredPrincipal, Description: "Team dates",
		Color: "#FF0000", SharedURL: "/dav/calendars/user/fred/work/"}}
	if !reflect.DeepEqual(own, want) {
		t.Errorf("fred's own:\n%+v\nwant\n%+v", own, want)
	}
	others, err := c.OthersCalendarsListedSince(ctx, fredPrincipal, start)
	if err != nil {
		t.Fatal(err)
	}
	want = []Calendar{{Href: notifierHome + "wilma.home/", DisplayName: "Home", Owner: "/dav/principals/user/wilma/",
		SharedURL: "/dav/calendars/user/wilma/home/"}}
	if !reflect.DeepEqual(others, want) {
		t.Errorf("others':\n%+v\nwant\n%+v", others, want)
	}
	homes := 0
	for _, r := range f.requests() {
		if r.Path == notifierHome {
			homes++
		}
	}
	if homes != 1 {
		t.Errorf("the home was listed %d times, want once", homes)
	}
}
