package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/testdb"
)

// calendarJobs counts the calendar sync jobs of a principal.
func (h *harness) calendarJobs(t *testing.T, system, principal string) int {
	t.Helper()
	return testdb.CalendarSyncJobs(t, h.db, system, principal)
}

// A ping naming a calendar notifyd syncs queues its owner's calendar
// sync, whatever the spelling of its path; nothing is queued for the path
// as if it were a principal.
func TestPingCalendarPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const fred = "/dav/principals/fred/"
	testdb.RecordCalendar(t, h.db, sysCal, fred, "/dav/calendars/fred/home/")
	// As a server may list it: lower-case hex digits.
	testdb.RecordCalendar(t, h.db, sysCal, fred, "/dav/calendars/fred/caf%c3%a9/")

	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/dav/calendars/fred/home/"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("calendar path: %+v, want its owner's calendar sync queued", got)
	}
	for _, href := range []string{"/dav/calendars/fred/home", "/dav/calendars/fred/%68ome/", "/dav/calendars/fred/caf%C3%A9/", "/dav/calendars/fred/caf%c3%a9"} {
		if got := h.ping(t, hrefsPing(sysCal, tokenCal, href), ""); got != (accepted{Queued: 1, Coalesced: 1}) {
			t.Fatalf("%s: %+v, want fred's calendar sync joined", href, got)
		}
	}
	if n := h.calendarJobs(t, sysCal, fred); n != 1 {
		t.Fatalf("fred has %d calendar sync jobs, want 1", n)
	}
	if p := h.principals(t, sysCal); len(p) != 0 {
		t.Fatalf("principals recorded: %q, want none", p)
	}
	if q := h.queued(t); q.jobs != 1 {
		t.Fatalf("%d jobs, want fred's calendar sync only", q.jobs)
	}
}

// A ping naming a resource in a calendar (the event that changed) syncs
// the calendar's owner too; only a resource directly in it counts.
func TestPingObjectInCalendar(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const jim = prefix + "jim/"
	testdb.RecordCalendar(t, h.db, sysPrefixed, jim, "/dav/calendars/jim/work/")
	if got := h.ping(t, hrefsPing(sysPrefixed, tokenPrefixed, "/dav/calendars/jim/work/lunch.ics"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("event in a calendar: %+v", got)
	}
	if got := h.ping(t, map[string]any{"system": sysPrefixed, "token": tokenPrefixed, "href": "/dav/calendars/jim/work/t%C3%A2che.ics"}, ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("single shape: %+v", got)
	}
	if n := h.calendarJobs(t, sysPrefixed, jim); n != 1 {
		t.Fatalf("jim has %d calendar sync jobs, want 1", n)
	}
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications",
		body: jsonBody(t, hrefsPing(sysPrefixed, tokenPrefixed, "/dav/calendars/jim/work/deeper/x.ics"))})
	if res.status != http.StatusBadRequest || !res.problem(t).hasField("/hrefs/0") {
		t.Fatalf("a path two levels into a calendar: %d %s, want 400", res.status, res.body)
	}
}

// An href that is neither a principal under the prefix nor a calendar
// notifyd syncs (nor in one) is refused with a detail that names both,
// and the ping queues nothing. Another system's calendar is not this
// system's.
func TestPingUnknownPathRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	testdb.RecordCalendar(t, h.db, sysPrefixed, prefix+"jim/", "/dav/calendars/jim/work/")
	testdb.RecordCalendar(t, h.db, sysCal, "/dav/principals/fred/", "/dav/calendars/fred/home/")
	before := h.queued(t)
	for _, href := range []string{"/dav/calendars/jim/play/", "/dav/calendars/jim/", "/dav/calendars/fred/home/", "/dav/calendars/jim/workX/e.ics"} {
		res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications",
			body: jsonBody(t, hrefsPing(sysPrefixed, tokenPrefixed, "/dav/calendars/jim/work/", href))})
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", href, res.status)
			continue
		}
		p := res.problem(t)
		if p.Type != typeValidation || len(p.Errors) != 1 || !p.hasField("/hrefs/1") {
			t.Errorf("%s: problem %s", href, res.body)
			continue
		}
		if d := p.Errors[0].Detail; !strings.Contains(d, prefix) || !strings.Contains(d, "calendar") {
			t.Errorf("%s: detail %q names not both the principal prefix and calendars", href, d)
		}
	}
	if after := h.queued(t); after != before {
		t.Errorf("refused pings queued something: %+v -> %+v", before, after)
	}
	if n := h.calendarJobs(t, sysPrefixed, prefix+"jim/"); n != 0 {
		t.Errorf("jim has %d calendar sync jobs after refused pings, want none", n)
	}
}

// A ping may name principals and calendars together: each principal and
// each calendar owner is one sync, counted once.
func TestPingMixedPrincipalsAndCalendars(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fred, jim := prefix+"fred", prefix+"jim/"
	testdb.RecordCalendar(t, h.db, sysPrefixed, jim, "/dav/calendars/jim/work/")
	testdb.RecordCalendar(t, h.db, sysPrefixed, jim, "/dav/calendars/jim/home/")

	got := h.ping(t, hrefsPing(sysPrefixed, tokenPrefixed,
		fred, "/dav/calendars/jim/work/", "/dav/calendars/jim/home/e.ics", fred, jim), "")
	if want := (accepted{Queued: 3, NewJobs: 3}); got != want {
		t.Fatalf("mixed ping: %+v, want %+v (fred's and jim's syncs, jim's calendar sync)", got, want)
	}
	if n := h.jobsFor(t, sysPrefixed, fred); n != 1 {
		t.Errorf("fred: %d sync jobs", n)
	}
	if n := h.jobsFor(t, sysPrefixed, jim); n != 1 {
		t.Errorf("jim: %d sync jobs", n)
	}
	if n := h.calendarJobs(t, sysPrefixed, jim); n != 1 {
		t.Errorf("jim: %d calendar sync jobs", n)
	}
	if p := h.principals(t, sysPrefixed); len(p) != 2 {
		t.Errorf("principals %q, want fred and jim", p)
	}
	got = h.ping(t, hrefsPing(sysPrefixed, tokenPrefixed, "/dav/calendars/jim/home/", prefix+"wilma"), "")
	if want := (accepted{Queued: 2, NewJobs: 1, Coalesced: 1}); got != want {
		t.Fatalf("second mixed ping: %+v, want %+v", got, want)
	}

	// One bad href refuses the whole ping.
	before := h.queued(t)
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications",
		body: jsonBody(t, hrefsPing(sysPrefixed, tokenPrefixed, prefix+"barney", "/dav/calendars/jim/work/", "/elsewhere/", "/p/../x"))})
	if res.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", res.status)
	}
	if p := res.problem(t); len(p.Errors) != 2 || p.Errors[0].Field != "/hrefs/2" || p.Errors[1].Field != "/hrefs/3" {
		t.Fatalf("problem %s, want /hrefs/2 and /hrefs/3 in order", res.body)
	}
	if after := h.queued(t); after != before {
		t.Errorf("a refused ping queued something: %+v -> %+v", before, after)
	}
}
