package peertest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// CalDAVServer is a running CalDAV server a test drives the same way
// whichever it is: Cyrus, Radicale or Xandikos (docs/peers.md says what
// each supports). Every user's password is Password(user).
type CalDAVServer interface {
	// Name says which server it is: "cyrus", "radicale" or "xandikos".
	Name() string
	// URL is the server's base URL, "http://127.0.0.1:PORT": a calendar
	// system's caldav base_url.
	URL() string
	// ServiceAccount is the user notifyd reads every principal's
	// calendars as.
	ServiceAccount() string
	// Password returns user's password.
	Password(user string) string
	// PrincipalHref returns user's principal path.
	PrincipalHref(user string) string
	// CalendarHome returns user's calendar home path (the
	// calendar-home-set of the principal), ending in a slash.
	CalendarHome(user string) string
	// Request sends method to path as user (basic auth) with header (name,
	// value pairs) and returns the status, headers and body. It does not
	// follow redirects: a 3xx is returned as is.
	Request(t testing.TB, user, method, path, contentType, body string, header ...string) (int, http.Header, []byte)
}

// Every server StartX returns is a CalDAVServer.
var (
	_ CalDAVServer = (*Cyrus)(nil)
	_ CalDAVServer = (*Radicale)(nil)
	_ CalDAVServer = (*Xandikos)(nil)
)

// MakeCalendar creates the calendar name in user's calendar home with
// MKCALENDAR, holding the component types comps ("VEVENT", "VTODO";
// both when none), and returns its path (ending in a slash). The server's
// service account can read it.
func MakeCalendar(t testing.TB, s CalDAVServer, user, name string, comps ...string) string {
	t.Helper()
	if len(comps) == 0 {
		comps = []string{"VEVENT", "VTODO"}
	}
	var set strings.Builder
	for _, c := range comps {
		set.WriteString(`<C:comp name="` + c + `"/>`)
	}
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		`<D:displayname>` + name + `</D:displayname>` +
		`<C:supported-calendar-component-set>` + set.String() + `</C:supported-calendar-component-set>` +
		`</D:prop></D:set></C:mkcalendar>`
	path := s.CalendarHome(user) + name + "/"
	status, _, resp := s.Request(t, user, "MKCALENDAR", path, "application/xml; charset=utf-8", body)
	if status != http.StatusCreated {
		t.Fatalf("%s: %s MKCALENDAR %s: %d %s", s.Name(), user, path, status, resp)
	}
	return path
}

// PutCalendarObject stores ics (an iCalendar object, CRLF line ends) at
// href as user, creating or replacing it, and returns the ETag the server
// answered with ("" when it sent none).
func PutCalendarObject(t testing.TB, s CalDAVServer, user, href, ics string) string {
	t.Helper()
	status, h, resp := s.Request(t, user, http.MethodPut, href, "text/calendar; charset=utf-8", ics)
	if status != http.StatusCreated && status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("%s: %s PUT %s: %d %s", s.Name(), user, href, status, resp)
	}
	return h.Get("ETag")
}

// DeleteCalendarObject deletes href as user.
func DeleteCalendarObject(t testing.TB, s CalDAVServer, user, href string) {
	t.Helper()
	status, _, resp := s.Request(t, user, http.MethodDelete, href, "", "")
	if status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("%s: %s DELETE %s: %d %s", s.Name(), user, href, status, resp)
	}
}

// ServiceCalendar returns the path at which s's service account reads
// cal, a calendar of another user: cal itself, or where the server
// redirects it. Cyrus answers 301 to the owner's path, to
// /dav/calendars/user/SERVICE/OWNER.NAME/, where the members' hrefs are
// then; and it answers 403 there unless the service account has the
// right lr on that calendar's mailbox.
func ServiceCalendar(t testing.TB, s CalDAVServer, cal string) string {
	t.Helper()
	const body = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`
	status, h, resp := s.Request(t, s.ServiceAccount(), "PROPFIND", cal, "application/xml; charset=utf-8", body, "Depth", "0")
	switch status {
	case http.StatusMultiStatus:
		return cal
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		loc, err := url.Parse(h.Get("Location"))
		if err != nil || loc.Path == "" {
			t.Fatalf("%s: PROPFIND %s as %s: %d to %q", s.Name(), cal, s.ServiceAccount(), status, h.Get("Location"))
		}
		return loc.EscapedPath()
	}
	t.Fatalf("%s: PROPFIND %s as %s: %d %s", s.Name(), cal, s.ServiceAccount(), status, resp)
	return ""
}

// davRequest sends one request to baseURL+path with basic auth and returns
// the status, headers and body (at most 16 MiB). It follows no redirect
// (net/http would turn a redirected PROPFIND or REPORT into a GET).
func davRequest(t testing.TB, baseURL, user, password, method, path, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	status, h, data, err := davDo(baseURL, user, password, method, path, contentType, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return status, h, data
}

// davDo is davRequest returning its failure.
func davDo(baseURL, user, password, method, path, contentType, body string, header ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(user, password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	hc := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s as %s: %v", method, path, user, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s as %s: reading the body: %v", method, path, user, err)
	}
	return resp.StatusCode, resp.Header, data, nil
}
