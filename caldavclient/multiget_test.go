package caldavclient

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const fredDefault = "/dav/calendars/user/notifier/fred.Default/"

// askedHrefs returns the DAV:href elements of a calendar-multiget body.
func askedHrefs(t *testing.T, body string) []string {
	t.Helper()
	var req struct {
		XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav calendar-multiget"`
		Hrefs   []string `xml:"DAV: href"`
	}
	if err := xml.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("calendar-multiget body: %v\n%s", err, body)
	}
	return req.Hrefs
}

// objectAnswer is a DAV:response with an object's etag and data.
func objectAnswer(href, etag, data string) string {
	return `<D:response><D:href>` + href + `</D:href><D:propstat><D:prop><D:getetag>` + etag + `</D:getetag>` +
		`<C:calendar-data>` + escapeText(data) + `</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
}

const (
	mgHead = `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`
	mgTail = `</D:multistatus>`
)

func TestMultiGetFromCyrusSample(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, sampleMultiGet)
	})
	c := newTestClient(t, f.URL)
	objs, err := c.MultiGet(context.Background(), fredDefault, []string{fredDefault + "ev1.ics", fredDefault + "gone.ics", "never-answered.ics"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("%d objects: %+v", len(objs), objs)
	}
	ev := objs[0]
	if ev.Href != fredDefault+"ev1.ics" || ev.ETag != `"18cfe67b6a70f88497e09039d07d602d56adc6cc"` || ev.Missing || ev.TooLarge || ev.Err != nil {
		t.Errorf("event: %+v", ev)
	}
	// XML turns the iCalendar CRLFs into LFs.
	if s := string(ev.Data); !strings.HasPrefix(s, "BEGIN:VCALENDAR\nVERSION:2.0\n") || !strings.Contains(s, "BEGIN:VALARM\nACTION:DISPLAY\n") || !strings.HasSuffix(s, "END:VCALENDAR\n") {
		t.Errorf("event data:\n%q", s)
	}
	if g := objs[1]; g.Href != fredDefault+"gone.ics" || !g.Missing || g.Data != nil || g.ETag != "" || g.Err != nil {
		t.Errorf("deleted object: %+v", g)
	}
	if n := objs[2]; n.Href != fredDefault+"never-answered.ics" || n.Missing || n.Data != nil || n.Err == nil || IsTemporary(n.Err) {
		t.Errorf("object the answer left out: %+v", n)
	}
	req := f.last(t)
	if req.Method != "REPORT" || req.Path != fredDefault || req.Header.Get("Depth") != "" || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/xml") {
		t.Errorf("request %s %s Depth %q Content-Type %q", req.Method, req.Path, req.Header.Get("Depth"), req.Header.Get("Content-Type"))
	}
	for _, s := range []string{`<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`, "<D:getetag/>", "<C:calendar-data/>"} {
		if !strings.Contains(req.Body, s) {
			t.Errorf("request body lacks %s:\n%s", s, req.Body)
		}
	}
	if got := askedHrefs(t, req.Body); fmt.Sprint(got) != fmt.Sprint([]string{fredDefault + "ev1.ics", fredDefault + "gone.ics", fredDefault + "never-answered.ics"}) {
		t.Errorf("asked for %v", got)
	}
}

func TestMultiGetStatuses(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, mgHead+
			// Answered in another order, encoded otherwise, twice.
			objectAnswer(fredDefault+"b%40x.ics", `"b"`, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")+
			objectAnswer(fredDefault+"a.ics", `"a"`, "A")+
			objectAnswer(fredDefault+"a.ics", `"a2"`, "A2")+
			`<D:response><D:href>`+fredDefault+`gone.ics</D:href><D:status>HTTP/1.1 410 Gone</D:status></D:response>`+
			`<D:response><D:href>`+fredDefault+`forbidden.ics</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response>`+
			`<D:response><D:href>`+fredDefault+`busy.ics</D:href><D:status>HTTP/1.1 503 Service Unavailable</D:status></D:response>`+
			// Not a calendar object: calendar-data refused in its propstat.
			`<D:response><D:href>`+fredDefault+`notcal.txt</D:href><D:propstat><D:prop><D:getetag>"n"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`+
			`<D:propstat><D:prop><C:calendar-data/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>`+
			// 200 with nothing.
			`<D:response><D:href>`+fredDefault+`empty.ics</D:href><D:propstat><D:prop><D:getetag>"e"</D:getetag><C:calendar-data>  </C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`+
			// Not asked for, or outside the calendar: ignored.
			objectAnswer(fredDefault+"other.ics", `"o"`, "O")+
			objectAnswer("/dav/calendars/user/notifier/fred.work/a.ics", `"w"`, "W")+
			objectAnswer(fredDefault+"%2e%2e/fred.work/a.ics", `"w"`, "W")+
			mgTail)
	})
	var logs bytes.Buffer
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	hrefs := []string{"a.ics", fredDefault + "b@x.ics", "gone.ics", "forbidden.ics", "busy.ics", "notcal.txt", "empty.ics", fredDefault + "a.ics"}
	objs, err := c.MultiGet(context.Background(), fredDefault, hrefs)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 7 {
		t.Fatalf("%d objects, want 7 (a.ics once): %+v", len(objs), objs)
	}
	check := func(i int, href, etag, data string, missing bool, status int) {
		t.Helper()
		o := objs[i]
		var he *HTTPError
		gotStatus := 0
		if errors.As(o.Err, &he) {
			gotStatus = he.Status
		}
		if o.Href != fredDefault+href || o.ETag != etag || string(o.Data) != data || o.Missing != missing || gotStatus != status || (status == 0 && o.Err != nil) {
			t.Errorf("object %d: %+v (err %v), want %s etag %s data %q missing %v status %d", i, o, o.Err, href, etag, data, missing, status)
		}
	}
	check(0, "a.ics", `"a"`, "A", false, 0)
	check(1, "b@x.ics", `"b"`, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", false, 0)
	check(2, "gone.ics", "", "", true, 0)
	check(3, "forbidden.ics", "", "", false, 403)
	check(4, "busy.ics", "", "", false, 503)
	check(5, "notcal.txt", "", "", false, 404)
	if IsTemporary(objs[3].Err) || !IsTemporary(objs[4].Err) {
		t.Errorf("403 temporary %v, 503 temporary %v", IsTemporary(objs[3].Err), IsTemporary(objs[4].Err))
	}
	if o := objs[6]; o.Href != fredDefault+"empty.ics" || o.Data != nil || o.Err == nil {
		t.Errorf("empty calendar-data: %+v", o)
	}
	if out := logs.String(); strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "hrefs=3") {
		t.Errorf("want one warning for 3 hrefs not asked for:\n%s", out)
	}
	if n := f.hits.Load(); n != 1 {
		t.Errorf("%d REPORTs, want 1", n)
	}
}

// TestMultiGetChunks checks that 250 hrefs take 3 REPORTs of at most 100.
func TestMultiGetChunks(t *testing.T) {
	f := newFake(t, nil)
	f.serve = func(w http.ResponseWriter, r *http.Request, body string) {
		var b strings.Builder
		b.WriteString(mgHead)
		for _, h := range askedHrefs(t, body) {
			b.WriteString(objectAnswer(h, `"`+h+`"`, "data of "+h))
		}
		b.WriteString(mgTail)
		xmlReply(w, http.StatusMultiStatus, b.String())
	}
	c := newTestClient(t, f.URL)
	var hrefs []string
	for i := 0; i < 250; i++ {
		hrefs = append(hrefs, fmt.Sprintf("%so%03d.ics", fredDefault, i))
	}
	objs, err := c.MultiGet(context.Background(), fredDefault, hrefs)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range objs {
		if o.Href != hrefs[i] || string(o.Data) != "data of "+hrefs[i] || o.ETag != `"`+hrefs[i]+`"` {
			t.Fatalf("object %d: %+v", i, o)
		}
	}
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, len(askedHrefs(t, r.Body)))
	}
	if fmt.Sprint(sizes) != "[100 100 50]" || c.Stats().Report != 3 {
		t.Errorf("REPORTs of %v hrefs (stats %+v), want [100 100 50]", sizes, c.Stats())
	}
	// No href: no request.
	if objs, err := c.MultiGet(context.Background(), fredDefault, nil); err != nil || len(objs) != 0 || f.hits.Load() != 3 {
		t.Errorf("MultiGet(nothing) = %v, %v after %d requests", objs, err, f.hits.Load())
	}
}

// TestMultiGetSizeLimits checks the per-object limit (the data is not
// kept) and the answer limit (the hrefs are asked for again in halves; an
// object that alone is over it is TooLarge).
func TestMultiGetSizeLimits(t *testing.T) {
	sizes := map[string]int{"small1.ics": 50, "small2.ics": 50, "big.ics": 300, "small3.ics": 50, "huge.ics": 3000}
	f := newFake(t, nil)
	f.serve = func(w http.ResponseWriter, r *http.Request, body string) {
		var b strings.Builder
		b.WriteString(mgHead)
		for _, h := range askedHrefs(t, body) {
			name := strings.TrimPrefix(h, fredDefault)
			b.WriteString(objectAnswer(h, `"`+name+`"`, strings.Repeat("x", sizes[name])))
		}
		b.WriteString(mgTail)
		xmlReply(w, http.StatusMultiStatus, b.String())
	}
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.MaxResponseBytes = 2000 })
	c.maxObject = 200
	objs, err := c.MultiGet(context.Background(), fredDefault, []string{"small1.ics", "small2.ics", "big.ics", "small3.ics", "huge.ics"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		name := strings.TrimPrefix(o.Href, fredDefault)
		switch name {
		case "big.ics":
			if !o.TooLarge || o.Data != nil || o.ETag != `"big.ics"` || o.Err != nil {
				t.Errorf("%s: %+v", name, o)
			}
		case "huge.ics":
			if !o.TooLarge || o.Data != nil || o.Err != nil {
				t.Errorf("%s: %+v", name, o)
			}
		default:
			if o.TooLarge || len(o.Data) != 50 || o.ETag != `"`+name+`"` || o.Err != nil {
				t.Errorf("%s: %+v", name, o)
			}
		}
	}
	// All 5 (too large); small1 and small2; big, small3 and huge (too
	// large); big (its data left out); small3 and huge (too large); small3;
	// huge (too large alone).
	var asked []int
	for _, r := range f.requests() {
		asked = append(asked, len(askedHrefs(t, r.Body)))
	}
	if fmt.Sprint(asked) != "[5 2 3 1 2 1 1]" {
		t.Errorf("REPORTs for %v hrefs", asked)
	}
}

func TestMultiGetRefusesNonMembers(t *testing.T) {
	evil := other(t)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	bad := []string{
		fredDefault, // the calendar itself
		"/dav/calendars/user/notifier/fred.work/a.ics",
		"/dav/calendars/user/notifier/fred.Default.ics",
		"../fred.work/a.ics",
		"%2e%2e/fred.work/a.ics",
		"..;x/fred.work/a.ics",
		"a%2fb.ics",
		"a%00.ics",
		"%252e%252e/x.ics",
	}
	for _, h := range bad {
		if objs, err := c.MultiGet(ctx, fredDefault, []string{fredDefault + "ok.ics", h}); !errors.Is(err, ErrNotMember) || objs != nil || IsTemporary(err) {
			t.Errorf("MultiGet(%q) = %v, %v", h, objs, err)
		}
	}
	for _, h := range []string{evil.URL + fredDefault + "a.ics", "//" + strings.TrimPrefix(evil.URL, "http://") + fredDefault + "a.ics"} {
		if _, err := c.MultiGet(ctx, fredDefault, []string{h}); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("MultiGet(%q): %v", h, err)
		}
	}
	if _, err := c.MultiGet(ctx, evil.URL+fredDefault, []string{"a.ics"}); !errors.Is(err, ErrOffOrigin) {
		t.Errorf("MultiGet of an off-origin calendar: %v", err)
	}
	if _, err := c.MultiGet(ctx, "/dav/calendars/%2e%2e/x/", []string{"a.ics"}); err == nil {
		t.Error("MultiGet of a calendar with a dot segment")
	}
	if f.hits.Load() != 0 || evil.hits.Load() != 0 {
		t.Errorf("%d and %d requests sent", f.hits.Load(), evil.hits.Load())
	}
}

func TestMultiGetHostileAnswers(t *testing.T) {
	evil := other(t)
	for _, tc := range []struct {
		name   string
		status int
		answer string
		check  func(error) bool
	}{
		{"off-origin href", 207, mgHead + objectAnswer(evil.URL+fredDefault+"a.ics", `"a"`, "A") + mgTail,
			func(err error) bool { return errors.Is(err, ErrOffOrigin) }},
		{"malformed", 207, mgHead + `<D:response><D:href>a</D:href>`, isProtocolError},
		{"not a multistatus", 207, `<x/>`, isProtocolError},
		{"too many elements", 207, mgHead + `<D:response>` + strings.Repeat("<D:x/>", maxResponseElements) + `</D:response>` + mgTail, isProtocolError},
		{"calendar gone", 404, "", func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"server error", 500, "oops", func(err error) bool {
			var he *HTTPError
			return errors.As(err, &he) && he.Status == 500 && IsTemporary(err)
		}},
		{"unsupported", 403, `<D:error xmlns:D="DAV:"><C:supported-report xmlns:C="urn:ietf:params:xml:ns:caldav"/></D:error>`, func(err error) bool {
			var he *HTTPError
			return errors.As(err, &he) && he.Status == 403 && !IsTemporary(err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				xmlReply(w, tc.status, tc.answer)
			})
			c := newTestClient(t, f.URL)
			objs, err := c.MultiGet(context.Background(), fredDefault, []string{"a.ics"})
			if err == nil || objs != nil || !tc.check(err) {
				t.Errorf("MultiGet = %+v, %v", objs, err)
			}
		})
	}
	if evil.hits.Load() != 0 {
		t.Errorf("%d requests reached the other server", evil.hits.Load())
	}
}
