package peertest_test

// Requests and answers the CalDAV tests need that caldavclient does not
// make (calendar listing, calendar-multiget), and the objects they store.

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/internal/peertest"
)

// event is a VEVENT with a display alarm 15 minutes before its start.
func event(uid, summary, start string) string {
	return strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//notifyd//peertest//EN
BEGIN:VEVENT
UID:`+uid+`
DTSTAMP:20300101T000000Z
DTSTART:`+start+`
DURATION:PT30M
SUMMARY:`+summary+`
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:`+summary+`
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
`, "\n", "\r\n")
}

// task is a VTODO with a display alarm an hour before it is due.
func task(uid, summary, due string) string {
	return strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//notifyd//peertest//EN
BEGIN:VTODO
UID:`+uid+`
DTSTAMP:20300101T000000Z
DUE:`+due+`
SUMMARY:`+summary+`
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:`+summary+`
TRIGGER;RELATED=END:-PT1H
END:VALARM
END:VTODO
END:VCALENDAR
`, "\n", "\r\n")
}

func hrefs(rs []caldavclient.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Href)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func syncBody(token string) string {
	tok := `<D:sync-token/>`
	if token != "" {
		tok = `<D:sync-token>` + token + `</D:sync-token>`
	}
	return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">` + tok +
		`<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
}

// multistatus is the part of a 207 answer these tests read.
type multistatus struct {
	Responses []struct {
		Href     string `xml:"DAV: href"`
		Status   string `xml:"DAV: status"`
		Propstat []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				ETag         string    `xml:"DAV: getetag"`
				CalendarData string    `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
				ResourceType *struct { // DAV:resourcetype
					Calendar *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar"`
				} `xml:"DAV: resourcetype"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

func parseMultistatus(t *testing.T, what string, status int, body []byte) multistatus {
	t.Helper()
	if status != http.StatusMultiStatus {
		t.Fatalf("%s: %d %s", what, status, body)
	}
	var ms multistatus
	if err := xml.Unmarshal(body, &ms); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	return ms
}

// hrefPath returns the decoded path of an href (a path or an absolute URL).
func hrefPath(t *testing.T, href string) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		t.Fatalf("href %q: %v", href, err)
	}
	return u.Path
}

// listCalendars returns the calendars (resourcetype CALDAV:calendar) in
// home, read by user with a PROPFIND of depth 1 (caldavclient has no
// calendar listing yet), and the status of the answer (none unless 207).
func listCalendars(t *testing.T, s peertest.CalDAVServer, user, home string) (map[string]bool, int) {
	t.Helper()
	const body = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`
	status, _, resp := s.Request(t, user, "PROPFIND", home, "application/xml; charset=utf-8", body, "Depth", "1")
	if status != http.StatusMultiStatus {
		return nil, status
	}
	ms := parseMultistatus(t, s.Name()+": PROPFIND "+home+" as "+user, status, resp)
	cals := map[string]bool{}
	for _, r := range ms.Responses {
		for _, ps := range r.Propstat {
			if rt := ps.Prop.ResourceType; rt != nil && rt.Calendar != nil && strings.Contains(ps.Status, " 200 ") {
				cals[hrefPath(t, r.Href)] = true
			}
		}
	}
	return cals, status
}

// multigot is one member of a calendar-multiget answer.
type multigot struct {
	status     int
	etag, data string
}

// multiget sends a calendar-multiget REPORT for hrefs to cal as user
// (caldavclient has none yet) and returns each member by path.
func multiget(t *testing.T, s peertest.CalDAVServer, user, cal string, hrefs ...string) map[string]multigot {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`)
	b.WriteString(`<D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	for _, h := range hrefs {
		b.WriteString(`<D:href>` + h + `</D:href>`)
	}
	b.WriteString(`</C:calendar-multiget>`)
	status, _, resp := s.Request(t, user, "REPORT", cal, "application/xml; charset=utf-8", b.String(), "Depth", "1")
	ms := parseMultistatus(t, s.Name()+": calendar-multiget "+cal+" as "+user, status, resp)
	got := map[string]multigot{}
	for _, r := range ms.Responses {
		m := multigot{status: statusOf(r.Status)}
		for _, ps := range r.Propstat {
			if st := statusOf(ps.Status); st == http.StatusOK {
				m.status = st
				m.etag = strings.TrimSpace(ps.Prop.ETag)
				m.data = strings.ReplaceAll(ps.Prop.CalendarData, "\r\n", "\n")
			} else if m.status == 0 {
				m.status = st
			}
		}
		got[hrefPath(t, r.Href)] = m
	}
	return got
}

// statusOf returns the code of an HTTP status line ("HTTP/1.1 404 Not
// Found"), 0 when there is none.
func statusOf(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	var n int
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
