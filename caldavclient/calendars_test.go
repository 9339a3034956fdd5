package caldavclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const (
	fredPrincipal = "/dav/principals/user/fred/"
	notifierHome  = "/dav/calendars/user/notifier/"
)

// principalAnswer is Cyrus's answer to the discovery PROPFIND of
// principal (made by the notifier account): the calendar home it names is
// home.
func principalAnswer(principal, home string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>` + principal + `</D:href><D:propstat><D:prop><D:notification-URL><D:href>/dav/notifications/user/fred/</D:href></D:notification-URL>` +
		`<C:calendar-home-set><D:href>` + home + `</D:href></C:calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`
}

// homeServer is a fake CalDAV server whose principals all name
// notifierHome as their calendar home (as Cyrus does) and whose home
// answers listing.
func homeServer(t *testing.T, listing func() string) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "PROPFIND" && strings.HasPrefix(r.URL.Path, "/dav/principals/"):
			xmlReply(w, http.StatusMultiStatus, principalAnswer(r.URL.Path, notifierHome))
		case r.Method == "PROPFIND" && r.URL.Path == notifierHome:
			xmlReply(w, http.StatusMultiStatus, listing())
		default:
			http.NotFound(w, r)
		}
	})
}

func TestCalendarsFromCyrusSample(t *testing.T) {
	f := homeServer(t, func() string { return sampleCalendarHome })
	c := newTestClient(t, f.URL)
	ctx := context.Background()

	cals, err := c.Calendars(ctx, fredPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	want := []Calendar{{
		Href:        "/dav/calendars/user/notifier/fred.Default/",
		DisplayName: "personal",
		Owner:       fredPrincipal,
		Components:  []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"},
		SyncToken:   "data:,1796556766-8",
		CTag:        "1796556766-8",
	}, {
		Href:         "/dav/calendars/user/notifier/fred.work/",
		DisplayName:  "Work",
		Owner:        fredPrincipal,
		Components:   []string{"VEVENT", "VTODO"},
		TimeZoneTZID: "Europe/Berlin",
		SyncToken:    "data:,1796557000-4",
		CTag:         "1796557000-4",
	}}
	if len(cals) == 2 {
		// The raw time zone, checked apart.
		tz := cals[1].TimeZone
		if !strings.HasPrefix(tz, "BEGIN:VCALENDAR\n") || !strings.Contains(tz, "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\n") || !strings.HasSuffix(tz, "END:VCALENDAR\n") {
			t.Errorf("TimeZone:\n%s", tz)
		}
		cals[1].TimeZone = ""
	}
	if !reflect.DeepEqual(cals, want) {
		t.Errorf("Calendars(fred) =\n%+v\nwant\n%+v", cals, want)
	}
	if cals[1].TZID() != "Europe/Berlin" || cals[0].TZID() != "" {
		t.Errorf("TZID: %q %q", cals[0].TZID(), cals[1].TZID())
	}
	if !cals[1].Supports("vtodo") || cals[1].Supports("VJOURNAL") || !(Calendar{}).Supports("VTODO") {
		t.Error("Supports")
	}

	// The notifier's own calendar, in the same home, is the notifier's:
	// not the inbox or outbox, nor fred's.
	mine, err := c.Calendars(ctx, "/dav/principals/user/notifier/")
	if err != nil || len(mine) != 1 || mine[0].Href != notifierHome+"Default/" || mine[0].Owner != "/dav/principals/user/notifier/" {
		t.Errorf("Calendars(notifier) = %+v, %v", mine, err)
	}

	// One PROPFIND of each principal (cached), one of the home per call.
	var got []string
	for _, r := range f.requests() {
		got = append(got, r.Method+" "+r.Path+" depth "+r.Header.Get("Depth"))
	}
	want2 := []string{
		"PROPFIND " + fredPrincipal + " depth 0",
		"PROPFIND " + notifierHome + " depth 1",
		"PROPFIND /dav/principals/user/notifier/ depth 0",
		"PROPFIND " + notifierHome + " depth 1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want2) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want2, "\n"))
	}
	if _, err := c.Calendars(ctx, fredPrincipal); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 5 {
		t.Errorf("%d requests after a third call, want 5 (the home is cached)", n)
	}
	body := f.requests()[1].Body
	for _, s := range []string{"<D:resourcetype/>", "<D:owner/>", "<D:sync-token/>", "<CS:getctag/>", "<D:displayname/>",
		"<C:supported-calendar-component-set/>", "<C:calendar-timezone/>", "<C:calendar-timezone-id/>"} {
		if !strings.Contains(body, s) {
			t.Errorf("the PROPFIND does not ask for %s:\n%s", s, body)
		}
	}
}

// member is one DAV:response of a calendar home listing.
func member(href, props string) string {
	return `<D:response><D:href>` + href + `</D:href><D:propstat><D:prop>` + props +
		`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
}

const (
	calType  = `<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`
	fredOwns = `<D:owner><D:href>` + fredPrincipal + `</D:href></D:owner>`
	homeHead = `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">`
	homeTail = `</D:multistatus>`
)

// TestCalendarsLeavesOut checks that only fred's calendars directly in
// the home come out of a listing full of other things, and that a
// warning says when members were outside the home.
func TestCalendarsLeavesOut(t *testing.T) {
	var b strings.Builder
	b.WriteString(homeHead)
	b.WriteString(member(notifierHome, `<D:resourcetype><D:collection/></D:resourcetype>`+fredOwns))
	b.WriteString(member(notifierHome+"good/", calType+fredOwns))
	// Not calendars, or not fred's.
	b.WriteString(member(notifierHome+"plain/", `<D:resourcetype><D:collection/></D:resourcetype>`+fredOwns))
	b.WriteString(member(notifierHome+"object.ics", `<D:resourcetype/>`+fredOwns))
	b.WriteString(member(notifierHome+"notype/", fredOwns))
	b.WriteString(member(notifierHome+"inbox/", `<D:resourcetype><D:collection/><C:calendar/><C:schedule-inbox/></D:resourcetype>`+fredOwns))
	b.WriteString(member(notifierHome+"outbox/", `<D:resourcetype><D:collection/><C:calendar/><C:schedule-outbox/></D:resourcetype>`+fredOwns))
	b.WriteString(member(notifierHome+"notifs/", `<D:resourcetype><D:collection/><C:calendar/><CS:notification/></D:resourcetype>`+fredOwns))
	b.WriteString(member(notifierHome+"wilma.shared/", calType+`<D:owner><D:href>/dav/principals/user/wilma/</D:href></D:owner>`))
	b.WriteString(member(notifierHome+"offowner/", calType+`<D:owner><D:href>http://elsewhere.example`+fredPrincipal+`</D:href></D:owner>`))
	b.WriteString(`<D:response><D:href>` + notifierHome + `forbidden/</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response>`)
	b.WriteString(`<D:response><D:href>` + notifierHome + `refused/</D:href><D:propstat><D:prop>` + calType + fredOwns +
		`</D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat></D:response>`)
	// Outside the home, or not directly in it.
	outside := []string{
		"/dav/calendars/user/wilma/cal/",
		"/dav/calendars/user/",
		notifierHome + "good/nested/",
		notifierHome + "%2e%2e/wilma/",
		notifierHome + "..;x/wilma/",
		notifierHome + "a%2fb/",
		notifierHome + "x%00/",
		"/dav/calendars/user/notifier-other/c/",
	}
	for _, h := range outside {
		b.WriteString(member(h, calType+fredOwns))
	}
	// No owner: the home's (a server without DAV:owner, such as a
	// single-user one).
	b.WriteString(member(notifierHome+"noowner", calType))
	// The same calendar twice.
	b.WriteString(member(notifierHome+"good/", calType+fredOwns))
	b.WriteString(homeTail)
	f := homeServer(t, b.String)
	var logs bytes.Buffer
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	cals, err := c.Calendars(context.Background(), fredPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	var hrefs []string
	for _, cal := range cals {
		hrefs = append(hrefs, cal.Href)
	}
	if want := []string{notifierHome + "good/", notifierHome + "noowner"}; fmt.Sprint(hrefs) != fmt.Sprint(want) {
		t.Errorf("Calendars = %v, want %v", hrefs, want)
	}
	if cals[1].Owner != "" || cals[1].Components != nil || !cals[1].Supports("VTODO") {
		t.Errorf("calendar without owner or components: %+v", cals[1])
	}
	out := logs.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "members outside the calendar home") ||
		!strings.Contains(out, fmt.Sprintf("members_outside=%d", len(outside))) {
		t.Errorf("want one warning counting %d members outside the home, got:\n%s", len(outside), out)
	}
}

// TestCalendarsWarnsWhenNoneIsThePrincipals checks the warning an
// operator gets on Cyrus before granting the service account access: the
// home lists only the service account's own calendar.
func TestCalendarsWarnsWhenNoneIsThePrincipals(t *testing.T) {
	f := homeServer(t, func() string {
		return homeHead + member(notifierHome+"Default/", calType+`<D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner>`) + homeTail
	})
	var logs bytes.Buffer
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	cals, err := c.Calendars(context.Background(), fredPrincipal)
	if err != nil || len(cals) != 0 {
		t.Fatalf("Calendars = %+v, %v", cals, err)
	}
	if out := logs.String(); !strings.Contains(out, "none of them the principal's") || !strings.Contains(out, "calendars_of_other_owners=1") {
		t.Errorf("no warning:\n%s", out)
	}
}

func TestCalendarsProperties(t *testing.T) {
	tz := "BEGIN:VCALENDAR\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID;X-A=\"a:b\":America/\r\n New_York\r\nBEGIN:STANDARD\r\nTZID:not-this\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	huge := "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Huge\nX:" + strings.Repeat("x", maxTimezoneBytes) + "\nEND:VTIMEZONE\nEND:VCALENDAR\n"
	listing := homeHead +
		member(notifierHome+"a/", calType+fredOwns+
			`<D:displayname>  Work &amp; play </D:displayname>`+
			`<C:supported-calendar-component-set><C:comp name="vevent"/><C:comp name="VEVENT"/><C:comp name=""/><C:comp/><C:comp name="`+strings.Repeat("V", 65)+`"/><C:comp name="VTODO"><C:x/></C:comp><D:comp name="VJOURNAL"/></C:supported-calendar-component-set>`+
			`<C:calendar-timezone>`+escapeText(tz)+`</C:calendar-timezone><C:calendar-timezone-id>Europe/Paris</C:calendar-timezone-id>`+
			`<D:sync-token> tok </D:sync-token><CS:getctag>ctag</CS:getctag>`) +
		member(notifierHome+"b/", calType+fredOwns+`<C:supported-calendar-component-set/>`+
			`<C:calendar-timezone><![CDATA[`+huge+`]]></C:calendar-timezone>`+
			`<D:sync-token>`+strings.Repeat("t", maxPropText+1)+`</D:sync-token>`) +
		// Properties in several propstats, one refused.
		`<D:response><D:href>` + notifierHome + `c/</D:href>` +
		`<D:propstat><D:prop>` + calType + `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>` +
		`<D:propstat><D:prop><D:displayname>secret</D:displayname></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat>` +
		`<D:propstat><D:prop>` + fredOwns + `<CS:getctag>c3</CS:getctag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>` +
		homeTail
	f := homeServer(t, func() string { return listing })
	var logs bytes.Buffer
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	cals, err := c.Calendars(context.Background(), fredPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	if len(cals) != 3 {
		t.Fatalf("%d calendars: %+v", len(cals), cals)
	}
	a := cals[0]
	if a.DisplayName != "Work & play" || fmt.Sprint(a.Components) != "[VEVENT VTODO]" || a.TimeZone != tz ||
		a.TimeZoneTZID != "America/New_York" || a.TimeZoneID != "Europe/Paris" || a.TZID() != "Europe/Paris" || a.SyncToken != "tok" || a.CTag != "ctag" {
		t.Errorf("calendar a: %+v", a)
	}
	b := cals[1]
	if b.Components == nil || len(b.Components) != 0 || b.Supports("VEVENT") || b.TimeZone != "" || b.TimeZoneTZID != "" || b.SyncToken != "" {
		t.Errorf("calendar b (no components, time zone and token too large): %+v", b)
	}
	if out := logs.String(); !strings.Contains(out, "too large to keep") || !strings.Contains(out, "properties=2") ||
		!strings.Contains(out, "calendar-timezone") || !strings.Contains(out, "sync-token") {
		t.Errorf("no warning for the properties too large:\n%s", out)
	}
	if cc := cals[2]; cc.Owner != fredPrincipal || cc.CTag != "c3" || cc.DisplayName != "" {
		t.Errorf("calendar c (merged propstats): %+v", cc)
	}
}

func TestVTimezoneTZID(t *testing.T) {
	for _, tc := range []struct{ ics, want string }{
		{"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n", "Europe/Berlin"},
		{"begin:vcalendar\nbegin:vtimezone\nbegin:standard\ntzid:inner\nend:standard\ntzid:outer\nend:vtimezone\n", "outer"},
		{"BEGIN:VTIMEZONE\nTZID:/mozilla.org/20050126_1/\n America/New_York\nEND:VTIMEZONE", "/mozilla.org/20050126_1/America/New_York"},
		{"BEGIN:VTIMEZONE\nTZID;X-LABEL=\"a:b;c\":W. Europe Standard Time\nEND:VTIMEZONE", "W. Europe Standard Time"},
		{"BEGIN:VCALENDAR\nTZID:not in a VTIMEZONE\nBEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR", ""},
		{"", ""},
		{"BEGIN:VTIMEZONE\nTZID\nEND:VTIMEZONE", ""},
	} {
		if got := vtimezoneTZID(tc.ics); got != tc.want {
			t.Errorf("vtimezoneTZID(%q) = %q, want %q", tc.ics, got, tc.want)
		}
	}
}

func TestCalendarsHostile(t *testing.T) {
	evil := other(t)
	many := func(n int) string {
		var b strings.Builder
		b.WriteString(homeHead)
		for i := 0; i < n; i++ {
			b.WriteString(member(fmt.Sprintf("%sc%d/", notifierHome, i), calType))
		}
		b.WriteString(homeTail)
		return b.String()
	}
	for _, tc := range []struct {
		name    string
		listing string
		status  int
		check   func(error) bool
	}{
		{"off-origin member", homeHead + member(evil.URL+notifierHome+"x/", calType+fredOwns) + homeTail, 207,
			func(err error) bool { return errors.Is(err, ErrOffOrigin) }},
		{"malformed XML", homeHead + `<D:response><D:href>x</D:response>`, 207, isProtocolError},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` + homeHead + homeTail, 207, isProtocolError},
		{"wrong root", `<D:error xmlns:D="DAV:"/>`, 207, isProtocolError},
		{"deep nesting", homeHead + member(notifierHome+"x/", nested(maxXMLDepth)) + homeTail, 207, isProtocolError},
		{"too many calendars", many(maxCalendars + 1), 207, isProtocolError},
		{"home gone", "", 404, func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"home forbidden", "", 403, func(err error) bool {
			var he *HTTPError
			return errors.As(err, &he) && he.Status == 403 && !IsTemporary(err)
		}},
		{"too large", homeHead + strings.Repeat(member(notifierHome+"x/", `<D:resourcetype/>`), 20000) + homeTail, 207,
			func(err error) bool { return errors.Is(err, ErrTooLarge) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				if strings.HasPrefix(r.URL.Path, "/dav/principals/") {
					xmlReply(w, http.StatusMultiStatus, principalAnswer(r.URL.Path, notifierHome))
					return
				}
				xmlReply(w, tc.status, tc.listing)
			})
			c := newTestClient(t, f.URL, func(cfg *Config) { cfg.MaxResponseBytes = 1 << 20 })
			cals, err := c.Calendars(context.Background(), fredPrincipal)
			if err == nil || cals != nil || !tc.check(err) {
				t.Errorf("Calendars = %+v, %v", cals, err)
			}
		})
	}
	if evil.hits.Load() != 0 {
		t.Errorf("%d requests reached the other server", evil.hits.Load())
	}
	// Exactly maxCalendars is fine.
	f := homeServer(t, func() string { return many(maxCalendars) })
	c := newTestClient(t, f.URL)
	if cals, err := c.Calendars(context.Background(), fredPrincipal); err != nil || len(cals) != maxCalendars {
		t.Errorf("%d calendars: %d, %v", maxCalendars, len(cals), err)
	}
}

func TestCalendarsDiscovery(t *testing.T) {
	ctx := context.Background()
	// A principal without a calendar home, one on another origin, one
	// that is 404.
	for _, tc := range []struct {
		name, answer string
		status       int
	}{
		{"no home", samplePrincipalPropfind, 207},
		{"off-origin home", principalAnswer(fredPrincipal, "http://elsewhere.example/home/"), 207},
		{"principal gone", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				xmlReply(w, tc.status, tc.answer)
			})
			c := newTestClient(t, f.URL)
			if cals, err := c.Calendars(ctx, fredPrincipal); !errors.Is(err, ErrNotFound) || cals != nil {
				t.Errorf("Calendars = %+v, %v", cals, err)
			}
			if n := f.hits.Load(); n != 1 {
				t.Errorf("%d requests, want 1 (the principal)", n)
			}
		})
	}
	c := newTestClient(t, "http://127.0.0.1:1")
	if _, err := c.Calendars(ctx, "http://elsewhere.example"+fredPrincipal); !errors.Is(err, ErrOffOrigin) {
		t.Errorf("off-origin principal: %v", err)
	}
}

// isProtocolError reports whether err is a malformed or refused answer.
func isProtocolError(err error) bool {
	var pe *protocolError
	return errors.As(err, &pe) && !IsTemporary(err)
}
