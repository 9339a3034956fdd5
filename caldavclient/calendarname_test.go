package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	wilmaPrincipal = "/dav/principals/user/wilma/"
	wilmaHome      = "/dav/calendars/user/wilma/"
)

// calendarServer answers wilma's principal (notification collection and
// calendar home), her calendar "work" and her scheduling inbox; anything
// else has a display name the client must never read.
func calendarServer(t *testing.T) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		prop := func(href, props string) {
			xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`+
				`<D:response><D:href>`+href+`</D:href><D:propstat><D:prop>`+props+`</D:prop>`+
				`<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
		}
		switch r.URL.Path {
		case wilmaPrincipal:
			if !strings.Contains(body, "<C:calendar-home-set/>") || !strings.Contains(body, "<D:notification-URL/>") {
				t.Errorf("principal PROPFIND asks for neither the notification-URL nor the calendar home:\n%s", body)
			}
			prop(r.URL.Path, `<D:notification-URL><D:href>`+wilmaColl+`</D:href></D:notification-URL>`+
				`<C:calendar-home-set><D:href>`+wilmaHome+`</D:href></C:calendar-home-set>`)
		case wilmaHome + "work/":
			prop(r.URL.Path, `<D:displayname> Wilma's Work </D:displayname><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`)
		case wilmaHome + "inbox/":
			prop(r.URL.Path, `<D:displayname>Inbox</D:displayname><D:resourcetype><D:collection/><C:schedule-inbox/></D:resourcetype>`)
		default:
			prop(r.URL.Path, `<D:displayname>secret name of `+r.URL.Path+`</D:displayname><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`)
		}
	})
}

func TestCalendarNameOnlyReadsCalendarsOfTheHome(t *testing.T) {
	f := calendarServer(t)
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	if coll, err := c.NotificationURL(ctx, wilmaPrincipal); err != nil || coll != wilmaColl {
		t.Fatalf("NotificationURL = %q, %v", coll, err)
	}
	// The home came with the notification collection: one PROPFIND, for
	// the calendar itself.
	for _, href := range []string{wilmaHome + "work/", f.URL + wilmaHome + "work/"} {
		before := len(f.requests())
		name, err := c.CalendarName(ctx, wilmaPrincipal, href)
		if err != nil || name != "Wilma's Work" {
			t.Fatalf("CalendarName(%s) = %q, %v", href, name, err)
		}
		if reqs := f.requests()[before:]; len(reqs) != 1 || reqs[0].Method != "PROPFIND" || reqs[0].Path != wilmaHome+"work/" ||
			!strings.Contains(reqs[0].Body, "<D:displayname/>") || !strings.Contains(reqs[0].Body, "<D:resourcetype/>") {
			t.Errorf("requests %+v, want one PROPFIND of the calendar", reqs)
		}
	}

	// Not a collection directly in the home: nothing is sent.
	before := len(f.requests())
	for _, href := range []string{
		"/some/admin/path/",
		"/dav/principals/user/admin/",
		wilmaHome,
		wilmaHome + "work/sub/",
		wilmaHome + "work/event.ics/x/",
		"/dav/calendars/user/fred/Default/",
		"/dav/calendars/user/wilmax/",
		wilmaHome + "%2e%2e/fred/Default/",
		wilmaHome + "..;x/fred/Default/",
		wilmaHome + "a%2fb/",
		wilmaColl,
	} {
		name, err := c.CalendarName(ctx, wilmaPrincipal, href)
		if name != "" || err == nil || IsTemporary(err) {
			t.Errorf("CalendarName(%s) = %q, %v; want an error and no name", href, name, err)
		}
	}
	if reqs := f.requests()[before:]; len(reqs) != 0 {
		t.Errorf("requests sent for hrefs outside the calendar home: %+v", reqs)
	}
	// In the home but not a calendar: its name is not used.
	if name, err := c.CalendarName(ctx, wilmaPrincipal, wilmaHome+"inbox/"); !errors.Is(err, ErrNotCalendar) || name != "" {
		t.Errorf("CalendarName(inbox) = %q, %v", name, err)
	}
	if _, err := c.CalendarName(ctx, wilmaPrincipal, "/some/admin/path/"); !errors.Is(err, ErrNotCalendar) {
		t.Errorf("CalendarName(/some/admin/path/): %v, want ErrNotCalendar", err)
	}
}

func TestCalendarNameDiscoversTheHome(t *testing.T) {
	f := calendarServer(t)
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	// A principal whose collection was found before (by another process):
	// the first name asks for the home, with the collection, once.
	for i := 0; i < 2; i++ {
		if name, err := c.CalendarName(ctx, wilmaPrincipal, wilmaHome+"work/"); err != nil || name != "Wilma's Work" {
			t.Fatalf("CalendarName = %q, %v", name, err)
		}
	}
	if coll, err := c.NotificationURL(ctx, wilmaPrincipal); err != nil || coll != wilmaColl {
		t.Fatalf("NotificationURL = %q, %v", coll, err)
	}
	var paths []string
	for _, r := range f.requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := []string{"PROPFIND " + wilmaPrincipal, "PROPFIND " + wilmaHome + "work/", "PROPFIND " + wilmaHome + "work/"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v", paths, want)
	}
	// Forgotten with the collection, asked again.
	c.ForgetNotificationURL(wilmaPrincipal)
	if _, err := c.CalendarName(ctx, wilmaPrincipal, "/some/admin/path/"); !errors.Is(err, ErrNotCalendar) {
		t.Fatal(err)
	}
	if r := f.last(t); r.Path != wilmaPrincipal {
		t.Errorf("last request %s %s, want the principal's discovery", r.Method, r.Path)
	}
	// A principal without a calendar home: no name is read.
	g := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		xmlReply(w, http.StatusMultiStatus, samplePrincipalPropfind)
	})
	c = newTestClient(t, g.URL)
	if _, err := c.CalendarName(ctx, wilmaPrincipal, wilmaHome+"work/"); !errors.Is(err, ErrNotCalendar) || g.hits.Load() != 1 {
		t.Errorf("without a calendar home: %v after %d requests", err, g.hits.Load())
	}
}
