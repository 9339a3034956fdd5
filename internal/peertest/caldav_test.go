package peertest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/internal/peertest"
)

// These tests prove what the reminder engine (issue 14) relies on from
// each real CalDAV server: discovery of the principal and calendar home, a
// calendar made with MKCALENDAR, events and tasks with alarms stored
// as sent, sync-collection (RFC 6578) from an empty token and from the
// returned one after an edit, an addition and a deletion, calendar-multiget
// (RFC 4791 §7.9), and the service account reading the user's calendar.
// docs/peers.md records the results.

// serverFacts is what differs between the servers, each checked.
type serverFacts struct {
	// svcHomeIsOwn: a PROPFIND of another user's principal by the
	// service account answers with the service account's own home (Cyrus).
	svcHomeIsOwn bool
	// svcHomeStatus is the status of the service account's PROPFIND of
	// the user's calendar home: 207 (listed) or, on Cyrus, 301 to the
	// service account's own home, which does not list the user's calendars.
	svcHomeStatus int
	// svcRedirected: the service account reads the user's calendar at
	// another path, where the server redirects it (Cyrus).
	svcRedirected bool
	// svcSeesAlarms: the service account reads the owner's VALARMs
	// (Cyrus keeps them as the owner's per-user data and shows other
	// readers the events without them).
	svcSeesAlarms bool
	// badTokenStatus is the status a sync-collection with an unknown
	// token gets; 403 comes with DAV:valid-sync-token.
	badTokenStatus int
}

func TestRadicaleCalendarSync(t *testing.T) {
	t.Parallel()
	r := peertest.StartRadicale(t, "fred", "wilma")
	cal := exerciseCalendar(t, r, "fred", serverFacts{svcHomeStatus: http.StatusMultiStatus, svcSeesAlarms: true, badTokenStatus: http.StatusForbidden})

	// Only the owner and the service account read a calendar: another
	// user is refused.
	status, _, body := r.Request(t, "wilma", "REPORT", cal, "application/xml; charset=utf-8", syncBody(""))
	if status != http.StatusForbidden {
		t.Errorf("wilma's sync of fred's calendar: %d %s, want 403", status, body)
	}
	status, _, body = r.Request(t, "fred", http.MethodGet, cal, "", "", "Authorization", "Basic Zm9vOmJhcg==")
	if status != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d %s, want 401", status, body)
	}
}

func TestXandikosCalendarSync(t *testing.T) {
	t.Parallel()
	x := peertest.StartXandikos(t, "fred")
	exerciseCalendar(t, x, "fred", serverFacts{svcHomeStatus: http.StatusMultiStatus, svcSeesAlarms: true, badTokenStatus: http.StatusInternalServerError})

	// The calendar made at the start is there too.
	cals, _ := listCalendars(t, x, x.ServiceAccount(), x.CalendarHome("fred"))
	if !cals[x.CalendarHome("fred")+peertest.XandikosDefaultCalendar+"/"] {
		t.Errorf("calendars in %s: %v, want %s among them", x.CalendarHome("fred"), cals, peertest.XandikosDefaultCalendar)
	}
}

func TestCyrusCalendarSync(t *testing.T) {
	t.Parallel()
	c := peertest.StartCyrus(t, "fred", "wilma")
	exerciseCalendar(t, c, "fred", serverFacts{svcHomeIsOwn: true, svcHomeStatus: http.StatusMovedPermanently, svcRedirected: true, badTokenStatus: http.StatusForbidden})
}

// exerciseCalendar runs the scenario on s as user and returns the path of
// the calendar it made.
func exerciseCalendar(t *testing.T, s peertest.CalDAVServer, user string, facts serverFacts) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	owner := client(t, s, user)
	svc := client(t, s, s.ServiceAccount())

	// Discovery, as the user and as the service account.
	principal, err := owner.CurrentUserPrincipal(ctx)
	if err != nil || principal != s.PrincipalHref(user) {
		t.Fatalf("%s: current-user-principal as %s = %q, %v; want %q", s.Name(), user, principal, err, s.PrincipalHref(user))
	}
	home, err := owner.CalendarHomeSet(ctx, principal)
	if err != nil || home != s.CalendarHome(user) {
		t.Fatalf("%s: calendar-home-set of %s as %s = %q, %v; want %q", s.Name(), principal, user, home, err, s.CalendarHome(user))
	}
	svcHome, err := svc.CalendarHomeSet(ctx, principal)
	wantSvcHome := s.CalendarHome(user)
	if facts.svcHomeIsOwn {
		wantSvcHome = s.CalendarHome(s.ServiceAccount())
	}
	if err != nil || svcHome != wantSvcHome {
		t.Errorf("%s: calendar-home-set of %s as %s = %q, %v; want %q", s.Name(), principal, s.ServiceAccount(), svcHome, err, wantSvcHome)
	}

	// A new calendar, listed in the home, and where the service account
	// reads it.
	cal := peertest.MakeCalendar(t, s, user, "reminders")
	if cals, _ := listCalendars(t, s, user, home); !cals[cal] {
		t.Fatalf("%s: calendars in %s as %s: %v, want %s among them", s.Name(), home, user, cals, cal)
	}
	cals, status := listCalendars(t, s, s.ServiceAccount(), home)
	if status != facts.svcHomeStatus || status == http.StatusMultiStatus && !cals[cal] {
		t.Errorf("%s: calendars in %s as %s: %d %v; want %d, %s among them", s.Name(), home, s.ServiceAccount(), status, cals, facts.svcHomeStatus, cal)
	}
	svcCal := peertest.ServiceCalendar(t, s, cal)
	if (svcCal != cal) != facts.svcRedirected {
		t.Errorf("%s: the service account reads %s at %s; want a redirect: %t", s.Name(), cal, svcCal, facts.svcRedirected)
	}

	// Initial sync.
	standup, review, lunch := cal+"standup.ics", cal+"review.ics", cal+"lunch.ics"
	peertest.PutCalendarObject(t, s, user, standup, event("standup", "Standup", "20300107T090000Z"))
	peertest.PutCalendarObject(t, s, user, lunch, event("lunch", "Lunch", "20300107T120000Z"))
	// The same members, as the service account sees them.
	standup2, review2, lunch2 := svcCal+"standup.ics", svcCal+"review.ics", svcCal+"lunch.ics"
	first, err := svc.Sync(ctx, svcCal, "")
	if err != nil {
		t.Fatalf("%s: initial sync of %s as %s: %v", s.Name(), cal, s.ServiceAccount(), err)
	}
	if got := hrefs(first.Changed); !equal(got, []string{lunch2, standup2}) || len(first.Deleted) != 0 || first.Token == "" {
		t.Fatalf("%s: initial sync: changed %v, deleted %v, token %q; want [%s %s], none, a token", s.Name(), got, first.Deleted, first.Token, lunch2, standup2)
	}

	// An edit, a new task, a deletion: the sync from the token reports
	// exactly those; then nothing.
	peertest.PutCalendarObject(t, s, user, standup, event("standup", "Standup (moved)", "20300107T100000Z"))
	peertest.PutCalendarObject(t, s, user, review, task("review", "Review the budget", "20300108T170000Z"))
	peertest.DeleteCalendarObject(t, s, user, lunch)
	second, err := svc.Sync(ctx, svcCal, first.Token)
	if err != nil {
		t.Fatalf("%s: sync from %q: %v", s.Name(), first.Token, err)
	}
	if got := hrefs(second.Changed); !equal(got, []string{review2, standup2}) || !equal(second.Deleted, []string{lunch2}) || second.Token == first.Token {
		t.Fatalf("%s: sync from the token: changed %v, deleted %v, token %q; want [%s %s], [%s], a new token",
			s.Name(), got, second.Deleted, second.Token, review2, standup2, lunch2)
	}
	third, err := svc.Sync(ctx, svcCal, second.Token)
	if err != nil || len(third.Changed)+len(third.Deleted) != 0 {
		t.Fatalf("%s: sync with nothing changed: %+v, %v; want nothing", s.Name(), third, err)
	}

	// calendar-multiget of what changed, and of the deleted one: the owner
	// gets the objects with their alarms; so does the service account,
	// where the server shows them.
	for _, reader := range []struct {
		user, cal     string
		alarms        bool
		standup, task string
		lunch         string
	}{
		{user, cal, true, standup, review, lunch},
		{s.ServiceAccount(), svcCal, facts.svcSeesAlarms, standup2, review2, lunch2},
	} {
		got := multiget(t, s, reader.user, reader.cal, reader.standup, reader.task, reader.lunch)
		if d := got[reader.standup]; d.status != http.StatusOK || !strings.Contains(d.data, "SUMMARY:Standup (moved)") ||
			strings.Contains(d.data, "BEGIN:VALARM") != reader.alarms || d.etag == "" {
			t.Errorf("%s: multiget %s as %s: %+v; want 200, the edited event (alarm: %t) and an ETag", s.Name(), reader.standup, reader.user, d, reader.alarms)
		}
		if d := got[reader.task]; d.status != http.StatusOK || !strings.Contains(d.data, "BEGIN:VTODO") ||
			strings.Contains(d.data, "TRIGGER;RELATED=END:-PT1H") != reader.alarms {
			t.Errorf("%s: multiget %s as %s: %+v; want 200, the task (alarm: %t)", s.Name(), reader.task, reader.user, d, reader.alarms)
		}
		if d := got[reader.lunch]; d.status != http.StatusNotFound {
			t.Errorf("%s: multiget %s (deleted) as %s: %+v; want 404", s.Name(), reader.lunch, reader.user, d)
		}
		if reader.user != s.ServiceAccount() {
			continue
		}
		body, etag, err := svc.Get(ctx, reader.standup)
		if err != nil || bytes.Contains(body, []byte("BEGIN:VALARM")) != reader.alarms || etag != got[reader.standup].etag {
			t.Errorf("%s: GET %s: ETag %q (multiget %q), %v\n%s", s.Name(), reader.standup, etag, got[reader.standup].etag, err, body)
		}
	}

	// A token the server does not know.
	_, err = svc.Sync(ctx, svcCal, "http://example.invalid/ns/sync/0123456789abcdef0123456789abcdef01234567")
	var he *caldavclient.HTTPError
	switch {
	case facts.badTokenStatus == http.StatusForbidden:
		if !errors.Is(err, caldavclient.ErrInvalidSyncToken) {
			t.Errorf("%s: sync from an unknown token: %v; want ErrInvalidSyncToken", s.Name(), err)
		}
	case !errors.As(err, &he) || he.Status != facts.badTokenStatus:
		t.Errorf("%s: sync from an unknown token: %v; want HTTP %d", s.Name(), err, facts.badTokenStatus)
	}
	return cal
}

func client(t *testing.T, s peertest.CalDAVServer, user string) *caldavclient.Client {
	t.Helper()
	c, err := caldavclient.New(caldavclient.Config{BaseURL: s.URL() + "/", Username: user, Password: s.Password(user)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}
