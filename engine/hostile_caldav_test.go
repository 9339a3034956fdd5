package engine_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
	"github.com/notifyd/notifyd/engine"
)

// hostileDAV is a CalDAV server, recording every request, whose sync
// answer names members outside the notification collection (with dot
// segments a server would resolve) and whose notifications name a path
// that is no calendar: notifyd must neither fetch nor delete the first,
// nor read the name of the second.
type hostileDAV struct {
	mu   sync.Mutex
	reqs []string // "METHOD request-URI"
}

const (
	wilmaColl = "/dav/notifications/user/wilma/"
	wilmaHome = "/dav/calendars/user/wilma/"
)

func (h *hostileDAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Method+" "+r.RequestURI)
	h.mu.Unlock()
	multistatus := func(body string) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		_, _ = io.WriteString(w, `<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`+body+`</D:multistatus>`)
	}
	prop := func(props string) {
		multistatus(`<D:response><D:href>` + r.URL.EscapedPath() + `</D:href><D:propstat><D:prop>` + props +
			`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
	}
	switch {
	case r.Method == "PROPFIND" && r.URL.Path == principal:
		prop(`<D:notification-URL><D:href>` + wilmaColl + `</D:href></D:notification-URL>` +
			`<C:calendar-home-set><D:href>` + wilmaHome + `</D:href></C:calendar-home-set>`)
	case r.Method == "PROPFIND" && r.URL.Path == wilmaHome+"work/":
		prop(`<D:displayname>Wilma's Work</D:displayname><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`)
	case r.Method == "PROPFIND":
		prop(`<D:displayname>Payroll (admin only)</D:displayname><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>`)
	case r.Method == "REPORT":
		var b strings.Builder
		for _, href := range []string{
			wilmaColl + "n1.xml",
			wilmaColl + "n2.xml",
			wilmaColl + "%2e%2e/%2e%2e/admin/calendars/y.xml",
			wilmaColl + "..;x/..;x/admin/calendars/z.xml",
			wilmaColl + "..%2f..%2fadmin%2fcalendars%2fw.xml",
		} {
			b.WriteString(`<D:response><D:href>` + href + `</D:href><D:propstat><D:prop><D:getetag>"e1"</D:getetag></D:prop>` +
				`<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
		}
		multistatus(b.String() + `<D:sync-token>t1</D:sync-token>`)
	case r.Method == http.MethodGet:
		w.Header().Set("ETag", `"e1"`)
		hosturl := "/some/admin/path/"
		if strings.HasSuffix(r.URL.Path, "/n2.xml") {
			hosturl = wilmaHome + "work/"
		}
		_, _ = io.WriteString(w, inviteTo(r.URL.Path, hosturl))
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (h *hostileDAV) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.reqs...)
}

// TestSyncAgainstAHostileServer runs a sync, deliveries and the delete
// policy with the real CalDAV client against hostileDAV.
func TestSyncAgainstAHostileServer(t *testing.T) {
	t.Parallel()
	dav := &hostileDAV{}
	srv := httptest.NewServer(dav)
	t.Cleanup(srv.Close)
	client, err := caldavclient.New(caldavclient.Config{BaseURL: srv.URL + "/", Username: "notifier", Password: "pw",
		Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) { o.Systems[0].CalDAV = client })
	r.subscribe(t, principal, "wilma@example.org")
	r.ping(t, principal)
	r.settle(t) // the deliveries and the DELETEs that follow them

	sent := r.email.sent // settled: nothing sends any more
	if len(sent) != 2 {
		t.Fatalf("%d messages sent, want one per real notification (2)", len(sent))
	}
	sort.Slice(sent, func(i, j int) bool { return sent[i].Notification.Calendar.Href > sent[j].Notification.Calendar.Href })
	shown := func(req *delivery.Request) string {
		return message.Cleaner{}.Calendar(req.CalendarName, req.Notification.Calendar)
	}
	// The path that is no calendar of wilma's home is named by its last
	// segment, never by what the server says its name is.
	if req := sent[0]; req.Notification.Calendar.Href != "/some/admin/path/" || req.CalendarName != "" || shown(req) != "path" {
		t.Errorf("calendar of the first invite: %+v, name read %q, shown %q; want no name read and \"path\" shown",
			req.Notification.Calendar, req.CalendarName, shown(req))
	}
	if req := sent[1]; req.Notification.Calendar.Href != wilmaHome+"work/" || shown(req) != "Wilma's Work" {
		t.Errorf("calendar of the second invite: %+v, shown %q; want the name read from wilma's calendar home",
			req.Notification.Calendar, shown(req))
	}

	reqs := dav.requests()
	for _, req := range reqs {
		if strings.Contains(req, "admin") || strings.Contains(req, "%2e") || strings.Contains(req, ";") {
			t.Errorf("request outside the notification collection and wilma's calendars: %s", req)
		}
	}
	// Discovery (with the calendar home), the sync, two GETs, one name,
	// two DELETEs.
	sort.Strings(reqs)
	want := []string{
		"DELETE " + wilmaColl + "n1.xml", "DELETE " + wilmaColl + "n2.xml",
		"GET " + wilmaColl + "n1.xml", "GET " + wilmaColl + "n2.xml",
		"PROPFIND " + wilmaHome + "work/", "PROPFIND " + principal,
		"REPORT " + wilmaColl,
	}
	if strings.Join(reqs, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
}
