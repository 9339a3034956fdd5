package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorded is one request a fake server received.
type recorded struct {
	Method, Path string
	// RequestURI is the target as sent, escapes and all.
	RequestURI string
	Header     http.Header
	Body       string
}

// fake is an httptest server that records requests and answers with a
// per-test handler.
type fake struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	hits  atomic.Int64
	serve func(w http.ResponseWriter, r *http.Request, body string)
}

func newFake(t *testing.T, serve func(w http.ResponseWriter, r *http.Request, body string)) *fake {
	t.Helper()
	f := &fake{serve: serve}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
		f.mu.Unlock()
		if f.serve != nil {
			f.serve(w, r, string(b))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fake) last(t *testing.T) recorded {
	t.Helper()
	r := f.requests()
	if len(r) == 0 {
		t.Fatal("the server received no request")
	}
	return r[len(r)-1]
}

// xmlReply writes status and an XML body.
func xmlReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func newTestClient(t *testing.T, base string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base + "/", Username: "notifier", Password: "notifierpw", Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

const wilmaColl = "/dav/notifications/user/wilma/"

func TestSyncInitialFromCyrusSample(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, sampleSyncResponse)
	})
	c := newTestClient(t, f.URL)
	res, err := c.Sync(context.Background(), wilmaColl, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Token != "data:,1795238818-3" {
		t.Errorf("token %q", res.Token)
	}
	want := []Resource{{Href: wilmaColl + "7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml", ETag: `"5f668712f2b0b30989b8b77fbe432229b6d3294f"`}}
	if fmt.Sprint(res.Changed) != fmt.Sprint(want) || len(res.Deleted) != 0 {
		t.Errorf("got %+v, want changed %+v", res, want)
	}
	req := f.last(t)
	if req.Method != "REPORT" || req.Path != wilmaColl {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	if d := req.Header.Get("Depth"); d != "" {
		t.Errorf("Depth header %q sent with sync-collection", d)
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, s := range []string{`<D:sync-collection xmlns:D="DAV:">`, "<D:sync-token/>", "<D:sync-level>1</D:sync-level>", "<D:getetag/>"} {
		if !strings.Contains(req.Body, s) {
			t.Errorf("request body lacks %s:\n%s", s, req.Body)
		}
	}
	if strings.Contains(req.Body, "limit") {
		t.Errorf("request body asks for a limit:\n%s", req.Body)
	}
}

func TestSyncIncremental(t *testing.T) {
	const answer = `<?xml version="1.0" encoding="utf-8"?>
<multistatus xmlns="DAV:" xmlns:cs="http://calendarserver.org/ns/">
  <response><href>/dav/notifications/user/wilma/</href>
    <propstat><prop><getetag>"coll"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/dav/notifications/user/wilma/new%20one.xml</href>
    <propstat><prop><getetag>"e1"</getetag><cs:notificationtype><cs:resource-change/></cs:notificationtype></prop><status>HTTP/1.1 200 OK</status></propstat>
    <propstat><prop><displayname/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
  <response><href>http://HOST/dav/notifications/user/wilma/absolute.xml</href>
    <propstat><prop><getetag>"e2"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>relative.xml</href><status>HTTP/1.1 200 OK</status></response>
  <response><href>/dav/notifications/user/wilma/gone.xml</href><status>HTTP/1.1 404 Not Found</status></response>
  <response><href>/dav/notifications/user/wilma/forbidden.xml</href><status>HTTP/1.1 403 Forbidden</status></response>
  <response><href>/dav/calendars/user/fred/Default/not-a-member.ics</href>
    <propstat><prop><getetag>"x"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <sync-token>data:,1-5</sync-token>
</multistatus>`
	var host string
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, strings.ReplaceAll(answer, "HOST", host))
	})
	host = strings.TrimPrefix(f.URL, "http://")
	c := newTestClient(t, f.URL)
	res, err := c.Sync(context.Background(), wilmaColl, "data:,1-<3>&")
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{
		{Href: wilmaColl + "new%20one.xml", ETag: `"e1"`},
		{Href: wilmaColl + "absolute.xml", ETag: `"e2"`},
		{Href: wilmaColl + "relative.xml"},
	}
	if fmt.Sprint(res.Changed) != fmt.Sprint(want) {
		t.Errorf("changed %+v\nwant    %+v", res.Changed, want)
	}
	if fmt.Sprint(res.Deleted) != fmt.Sprint([]string{wilmaColl + "gone.xml"}) {
		t.Errorf("deleted %v", res.Deleted)
	}
	if res.Token != "data:,1-5" {
		t.Errorf("token %q", res.Token)
	}
	if b := f.last(t).Body; !strings.Contains(b, "<D:sync-token>data:,1-&lt;3&gt;&amp;</D:sync-token>") {
		t.Errorf("token not sent escaped:\n%s", b)
	}
}

func TestSyncDeletedFromCyrusSample(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, sampleDeleted)
	})
	c := newTestClient(t, f.URL)
	res, err := c.Sync(context.Background(), wilmaColl, "data:,1795240079-6")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 || len(res.Deleted) != 1 || res.Deleted[0] != wilmaColl+"7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml" || res.Token != "data:,1795240079-7" {
		t.Errorf("got %+v", res)
	}
}

func TestSyncTruncatedContinues(t *testing.T) {
	var tokens []string
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case strings.Contains(body, "<D:sync-token/>"):
			tokens = append(tokens, "")
			xmlReply(w, http.StatusMultiStatus, sampleTruncated)
		case strings.Contains(body, "<D:sync-token>data:,1795240079-4-6</D:sync-token>"):
			tokens = append(tokens, "data:,1795240079-4-6")
			// The rest, plus the first member deleted meanwhile.
			xmlReply(w, http.StatusMultiStatus, strings.Replace(sampleTruncatedRest, "<D:sync-token>",
				`<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response><D:sync-token>`, 1))
		default:
			t.Errorf("unexpected body %s", body)
			w.WriteHeader(400)
		}
	})
	c := newTestClient(t, f.URL)
	res, err := c.Sync(context.Background(), wilmaColl, "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tokens) != fmt.Sprint([]string{"", "data:,1795240079-4-6"}) {
		t.Errorf("requests from tokens %q", tokens)
	}
	if res.Token != "data:,1795240079-6" {
		t.Errorf("token %q", res.Token)
	}
	var changed []string
	for _, r := range res.Changed {
		changed = append(changed, strings.TrimPrefix(r.Href, wilmaColl))
	}
	want := []string{"7c7efcec-f2ed9e2c-f8397e5f-b66565b.xml", "7c7efcec-f2ed9e2c-f8397e5c-b66565b.xml", "7c7efcec-f2ed9e2c-f8397e5d-b66565b.xml"}
	if fmt.Sprint(changed) != fmt.Sprint(want) {
		t.Errorf("changed %v, want %v", changed, want)
	}
	if fmt.Sprint(res.Deleted) != fmt.Sprint([]string{wilmaColl + "7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml"}) {
		t.Errorf("deleted %v", res.Deleted)
	}
	if s := c.Stats(); s.Report != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestSyncTruncationIsBounded(t *testing.T) {
	n := 0
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		n++
		// Always truncated, always a new token: a broken server.
		xmlReply(w, http.StatusMultiStatus, fmt.Sprintf(`<D:multistatus xmlns:D="DAV:">`+
			`<D:response><D:href>/dav/notifications/user/wilma/m%d.xml</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>`+
			`<D:response><D:href>/dav/notifications/user/wilma/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>`+
			`<D:sync-token>t%d</D:sync-token></D:multistatus>`, n, n))
	})
	c := newTestClient(t, f.URL)
	_, err := c.Sync(context.Background(), wilmaColl, "")
	if err == nil || !strings.Contains(err.Error(), "still truncated") || IsTemporary(err) {
		t.Fatalf("err %v", err)
	}
	if n != maxSyncRounds {
		t.Errorf("%d rounds, want %d", n, maxSyncRounds)
	}

	// Truncated without progress: stop at once.
	n = 0
	f.serve = func(w http.ResponseWriter, r *http.Request, body string) {
		n++
		xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:">`+
			`<D:response><D:href>/dav/notifications/user/wilma/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>`+
			`<D:sync-token>same</D:sync-token></D:multistatus>`)
	}
	if _, err := c.Sync(context.Background(), wilmaColl, "same"); err == nil || n != 1 {
		t.Errorf("err %v after %d rounds", err, n)
	}
}

func TestSyncInvalidToken(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   error
	}{
		{403, sampleInvalidToken, ErrInvalidSyncToken},
		{409, `<error xmlns="DAV:"><valid-sync-token/></error>`, ErrInvalidSyncToken},
		{400, `<x:error xmlns:x="DAV:"><x:valid-sync-token></x:valid-sync-token></x:error>`, ErrInvalidSyncToken},
		{403, `<D:error xmlns:D="DAV:"><D:need-privileges/></D:error>`, nil},
		{403, `Forbidden`, nil},
		{404, ``, ErrNotFound},
		{410, ``, ErrNotFound},
	} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
			xmlReply(w, tc.status, tc.body)
		})
		c := newTestClient(t, f.URL)
		_, err := c.Sync(context.Background(), wilmaColl, "data:,bogus")
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("%d %s: err %v, want %v", tc.status, tc.body, err, tc.want)
			}
		} else if errors.Is(err, ErrInvalidSyncToken) {
			t.Errorf("%d %s: err %v", tc.status, tc.body, err)
		}
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != tc.status || he.Method != "REPORT" {
			t.Errorf("%d: no HTTPError in %v", tc.status, err)
		}
		if IsTemporary(err) {
			t.Errorf("%d: temporary: %v", tc.status, err)
		}
	}
}

func TestSyncMalformed(t *testing.T) {
	for _, body := range []string{
		`<D:multistatus xmlns:D="DAV:"><D:response>`,
		`<D:multistatus xmlns:D="DAV:"></D:multistatus>`, // no sync-token
		`<html>oops</html>`,
		`<D:multistatus xmlns:D="DAV:"><D:sync-token>x</D:sync-token></D:multi>`,
	} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) {
			xmlReply(w, http.StatusMultiStatus, body)
		})
		c := newTestClient(t, f.URL)
		if _, err := c.Sync(context.Background(), wilmaColl, ""); err == nil || IsTemporary(err) {
			t.Errorf("%s: err %v", body, err)
		}
	}
}

func TestUndeclaredPrefixQuirk(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, samplePropfindUndeclaredPrefix)
	})
	c := newTestClient(t, f.URL)
	name, err := c.DisplayName(context.Background(), wilmaColl)
	if err != nil || name != "" {
		t.Fatalf("DisplayName = %q, %v", name, err)
	}
	ms, err := parseMultistatus([]byte(samplePropfindUndeclaredPrefix))
	if err != nil || len(ms.Responses) != 1 || len(ms.Responses[0].Propstats) != 2 {
		t.Fatalf("parse: %+v %v", ms, err)
	}

	// An undeclared CS: prefix on a property the client reads.
	const undeclared = `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/p/</D:href><D:propstat><D:prop>` +
		`<CS:notification-URL><D:href>/n/</D:href></CS:notification-URL></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`
	ms, err = parseMultistatus([]byte(undeclared))
	if err != nil || len(ms.Responses) != 1 || ms.Responses[0].okProps()[0].CSNotificationURL.href() != "/n/" {
		t.Fatalf("parse: %+v %v", ms, err)
	}
}

func TestNamespacesMatchedByURI(t *testing.T) {
	// Odd prefixes, the default namespace, and a look-alike element in the
	// wrong namespace (ignored).
	const body = `<?xml version="1.0"?>
<z:multistatus xmlns:z="DAV:" xmlns:q="http://calendarserver.org/ns/" xmlns:evil="urn:evil">
 <z:response><z:href>/dav/principals/user/wilma/</z:href><z:propstat><z:prop>
   <evil:notification-URL><z:href>/evil/</z:href></evil:notification-URL>
   <q:notification-URL><href xmlns="DAV:">/dav/notifications/user/wilma/</href></q:notification-URL>
 </z:prop><z:status>HTTP/1.1 200 OK</z:status></z:propstat></z:response></z:multistatus>`
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) { xmlReply(w, 207, body) })
	c := newTestClient(t, f.URL)
	got, err := c.NotificationURL(context.Background(), "/dav/principals/user/wilma/")
	if err != nil || got != wilmaColl {
		t.Fatalf("NotificationURL = %q, %v", got, err)
	}
}

func TestNotificationURLDiscoveryAndCache(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Path {
		case "/dav/principals/user/wilma/":
			xmlReply(w, http.StatusMultiStatus, samplePrincipalPropfind)
		case "/dav/principals/user/nobody/":
			http.Error(w, "Mailbox does not exist", http.StatusNotFound)
		case "/dav/principals/user/gone/":
			http.Error(w, "gone", http.StatusGone)
		case "/dav/principals/user/plain/":
			xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/principals/user/plain/</D:href>`+
				`<D:propstat><D:prop><D:notification-URL/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`)
		case "/dav/principals/user/csonly/":
			xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:" xmlns:C="http://calendarserver.org/ns/"><D:response><D:href>/dav/principals/user/csonly/</D:href>`+
				`<D:propstat><D:prop><C:notification-URL><D:href>notifications/</D:href></C:notification-URL></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
		case "/dav/principals/user/status404/":
			xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/principals/user/status404/</D:href>`+
				`<D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>`)
		default:
			w.WriteHeader(500)
		}
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	const wilma = "/dav/principals/user/wilma/"
	got, err := c.NotificationURL(ctx, wilma)
	if err != nil || got != wilmaColl {
		t.Fatalf("NotificationURL = %q, %v", got, err)
	}
	req := f.last(t)
	if req.Method != "PROPFIND" || req.Header.Get("Depth") != "0" || !strings.Contains(req.Body, "<D:notification-URL/>") ||
		!strings.Contains(req.Body, "<CS:notification-URL/>") || !strings.Contains(req.Body, `xmlns:CS="http://calendarserver.org/ns/"`) {
		t.Errorf("request %+v", req)
	}
	// Cached: no second PROPFIND, also for an equivalent spelling.
	for _, p := range []string{wilma, f.URL + wilma} {
		if got, err := c.NotificationURL(ctx, p); err != nil || got != wilmaColl {
			t.Fatalf("cached NotificationURL(%s) = %q, %v", p, got, err)
		}
	}
	if n := c.Stats().PropFind; n != 1 {
		t.Errorf("%d PROPFINDs, want 1 (cached)", n)
	}
	c.ForgetNotificationURL(wilma)
	if got, err := c.NotificationURL(ctx, wilma); err != nil || got != wilmaColl {
		t.Fatalf("NotificationURL after forget = %q, %v", got, err)
	}
	if n := c.Stats().PropFind; n != 2 {
		t.Errorf("%d PROPFINDs, want 2 (rediscovered)", n)
	}
	if got, err := c.NotificationURL(ctx, "/dav/principals/user/csonly/"); err != nil || got != "/dav/principals/user/csonly/notifications/" {
		t.Errorf("CS-only: %q, %v", got, err)
	}
	for _, p := range []string{"nobody", "gone", "plain", "status404"} {
		_, err := c.NotificationURL(ctx, "/dav/principals/user/"+p+"/")
		if !errors.Is(err, ErrNotFound) || IsTemporary(err) {
			t.Errorf("%s: err %v, want ErrNotFound", p, err)
		}
	}
	// Errors are not cached.
	before := c.Stats().PropFind
	_, _ = c.NotificationURL(ctx, "/dav/principals/user/nobody/")
	if c.Stats().PropFind != before+1 {
		t.Error("a failed discovery was cached")
	}
}

func TestNotificationURLConcurrent(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, samplePrincipalPropfind)
	})
	c := newTestClient(t, f.URL)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := c.NotificationURL(context.Background(), "/dav/principals/user/wilma/"); err != nil || got != wilmaColl {
				t.Errorf("%q %v", got, err)
			}
			c.ForgetNotificationURL("/dav/principals/user/wilma/")
			_ = c.Stats()
		}()
	}
	wg.Wait()
}

// other returns a second server that must never be contacted.
func other(t *testing.T) *fake {
	t.Helper()
	return newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		t.Errorf("request sent to the other origin: %s %s (Authorization %q)", r.Method, r.URL, r.Header.Get("Authorization"))
		xmlReply(w, http.StatusMultiStatus, samplePrincipalPropfind)
	})
}

func TestOffOriginNotificationURL(t *testing.T) {
	evil := other(t)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, strings.ReplaceAll(samplePrincipalPropfind,
			"<D:href>/dav/notifications/user/wilma/</D:href>", "<D:href>"+evil.URL+"/dav/notifications/user/wilma/</D:href>"))
	})
	c := newTestClient(t, f.URL)
	_, err := c.NotificationURL(context.Background(), "/dav/principals/user/wilma/")
	if !errors.Is(err, ErrOffOrigin) || IsTemporary(err) {
		t.Fatalf("err %v, want ErrOffOrigin", err)
	}
	// Nothing cached, nothing sent elsewhere (even if the caller insists).
	if _, err := c.Sync(context.Background(), evil.URL+"/dav/notifications/user/wilma/", ""); !errors.Is(err, ErrOffOrigin) {
		t.Fatalf("Sync off-origin: %v", err)
	}
	if evil.hits.Load() != 0 {
		t.Errorf("%d requests reached the other server", evil.hits.Load())
	}
}

func TestOffOriginHrefs(t *testing.T) {
	evil := other(t)
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>`+evil.URL+`/dav/notifications/user/wilma/x.xml</D:href>`+
			`<D:status>HTTP/1.1 200 OK</D:status></D:response><D:sync-token>t</D:sync-token></D:multistatus>`)
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	if _, err := c.Sync(ctx, wilmaColl, ""); !errors.Is(err, ErrOffOrigin) {
		t.Errorf("Sync with an off-origin member: %v", err)
	}
	port := f.Listener.Addr().(*net.TCPAddr).Port
	for _, href := range []string{
		evil.URL + "/x.xml",
		"//" + evilHost + "/x.xml",
		"https://" + strings.TrimPrefix(f.URL, "http://") + "/x.xml", // other scheme
		fmt.Sprintf("http://localhost:%d/x.xml", port),               // other host name
		"http://user:pw@" + strings.TrimPrefix(f.URL, "http://") + "/x.xml",
		"mailto:wilma@localhost",
		"file:///etc/passwd",
	} {
		if _, _, err := c.Get(ctx, href); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("Get(%s): %v", href, err)
		}
		if err := c.Delete(ctx, href, ""); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("Delete(%s): %v", href, err)
		}
		if err := c.Put(ctx, href, "", []byte("x"), "text/plain"); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("Put(%s): %v", href, err)
		}
		if _, err := c.DisplayName(ctx, href); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("DisplayName(%s): %v", href, err)
		}
		if _, err := c.NotificationURL(ctx, href); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("NotificationURL(%s): %v", href, err)
		}
	}
	if evil.hits.Load() != 0 {
		t.Errorf("%d requests reached the other server", evil.hits.Load())
	}
	if n := f.hits.Load(); n != 1 {
		t.Errorf("%d requests reached the server, want 1 (the sync)", n)
	}
	// A same-origin absolute URL (default port spelt out or not) is fine.
	if _, err := c.resolve(nil, f.URL+"/a/../b.xml"); err != nil {
		t.Errorf("same origin refused: %v", err)
	}
}

func TestRedirects(t *testing.T) {
	evil := other(t)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Path {
		case "/old/principal/":
			http.Redirect(w, r, "/dav/principals/user/wilma/", http.StatusMovedPermanently)
		case "/dav/principals/user/wilma/":
			if r.Method != "PROPFIND" || !strings.Contains(body, "notification-URL") || r.Header.Get("Authorization") == "" {
				t.Errorf("redirected request lost its method, body or credentials: %s %q %q", r.Method, body, r.Header.Get("Authorization"))
			}
			xmlReply(w, http.StatusMultiStatus, samplePrincipalPropfind)
		case "/tmp/x.xml":
			http.Redirect(w, r, "/dav/notifications/user/wilma/x.xml", http.StatusTemporaryRedirect)
		case "/dav/notifications/user/wilma/x.xml":
			w.Header().Set("ETag", `"e"`)
			_, _ = io.WriteString(w, sampleInviteNotification)
		case "/evil/":
			http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
		case "/evil-relative/":
			w.Header().Set("Location", "//"+strings.TrimPrefix(evil.URL, "http://")+"/steal")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/loop/":
			http.Redirect(w, r, "/loop/", http.StatusFound)
		case "/see-other/":
			http.Redirect(w, r, "/elsewhere/", http.StatusSeeOther)
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	if got, err := c.NotificationURL(ctx, "/old/principal/"); err != nil || got != wilmaColl {
		t.Errorf("redirected PROPFIND: %q %v", got, err)
	}
	if body, etag, err := c.Get(ctx, "/tmp/x.xml"); err != nil || etag != `"e"` || string(body) != sampleInviteNotification {
		t.Errorf("redirected GET: %q %v", etag, err)
	}
	for _, p := range []string{"/evil/", "/evil-relative/"} {
		if _, _, err := c.Get(ctx, p); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("GET %s redirected off-origin: %v", p, err)
		}
		if err := c.Delete(ctx, p, `"e"`); !errors.Is(err, ErrOffOrigin) {
			t.Errorf("DELETE %s redirected off-origin: %v", p, err)
		}
	}
	if evil.hits.Load() != 0 {
		t.Errorf("%d requests reached the other server", evil.hits.Load())
	}
	before := f.hits.Load()
	if _, _, err := c.Get(ctx, "/loop/"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: %v", err)
	}
	if n := f.hits.Load() - before; n != maxRedirects+1 {
		t.Errorf("redirect loop: %d requests, want %d", n, maxRedirects+1)
	}
	// A 303 to a PROPFIND is not followed (it would become a GET).
	if _, err := c.DisplayName(ctx, "/see-other/"); err == nil {
		t.Error("303 on PROPFIND followed")
	} else {
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusSeeOther {
			t.Errorf("303: %v", err)
		}
	}
}

func TestTooLarge(t *testing.T) {
	big := strings.Repeat("x", 2000)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Path {
		case "/length.xml":
			_, _ = io.WriteString(w, big) // Content-Length set
		case "/chunked.xml":
			w.(http.Flusher).Flush() // no Content-Length
			_, _ = io.WriteString(w, big)
		case "/small.xml":
			_, _ = io.WriteString(w, big[:1000])
		case "/error.xml":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, big)
		default:
			xmlReply(w, http.StatusMultiStatus, `<D:multistatus xmlns:D="DAV:">`+strings.Repeat(
				`<D:response><D:href>/dav/notifications/user/wilma/a.xml</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>`, 20)+
				`<D:sync-token>t</D:sync-token></D:multistatus>`)
		}
	})
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.MaxResponseBytes = 1000 })
	ctx := context.Background()
	for _, p := range []string{"/length.xml", "/chunked.xml"} {
		if b, _, err := c.Get(ctx, p); !errors.Is(err, ErrTooLarge) || b != nil || IsTemporary(err) {
			t.Errorf("GET %s: %d bytes, %v", p, len(b), err)
		}
	}
	if b, _, err := c.Get(ctx, "/small.xml"); err != nil || len(b) != 1000 {
		t.Errorf("GET at the cap: %d bytes, %v", len(b), err)
	}
	if res, err := c.Sync(ctx, wilmaColl, ""); !errors.Is(err, ErrTooLarge) || res != nil {
		t.Errorf("Sync: %v %v", res, err)
	}
	// A long error page is still the status, not ErrTooLarge.
	_, _, err := c.Get(ctx, "/error.xml")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusBadGateway || errors.Is(err, ErrTooLarge) || len(he.Body) > maxErrorBody {
		t.Errorf("GET error page: %v", err)
	}
	// The default cap is 10 MiB.
	c2 := newTestClient(t, f.URL)
	if c2.maxBytes != 10<<20 {
		t.Errorf("default cap %d", c2.maxBytes)
	}
}

func TestGetDeletePut(t *testing.T) {
	const item = "/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-1d4cd286-b66565b.xml"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == item:
			w.Header().Set("ETag", `"abc"`)
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, sampleInviteNotification)
		case r.Method == http.MethodDelete && r.URL.Path == item:
			switch r.Header.Get("If-Match") {
			case `"abc"`, "":
				w.WriteHeader(http.StatusNoContent)
			default:
				w.WriteHeader(http.StatusPreconditionFailed)
			}
		case r.Method == http.MethodPut && r.URL.Path == item:
			w.Header().Set("Allow", "OPTIONS, GET, HEAD, POST, DELETE")
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.Method == http.MethodPut && r.URL.Path == "/ok.ics":
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodPut && r.URL.Path == "/changed.ics":
			w.WriteHeader(http.StatusPreconditionFailed)
		case r.Method == http.MethodPut && r.URL.Path == "/forbidden.ics":
			w.WriteHeader(http.StatusForbidden)
		case r.Method == http.MethodPut && r.URL.Path == "/ni.ics":
			w.WriteHeader(http.StatusNotImplemented)
		case r.URL.Path == "/gone.xml":
			w.WriteHeader(http.StatusGone)
		case r.URL.Path == "/boom.xml":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()

	body, etag, err := c.Get(ctx, item)
	if err != nil || etag != `"abc"` || string(body) != sampleInviteNotification {
		t.Fatalf("Get: %q %v", etag, err)
	}
	if ae := f.last(t).Header.Get("Accept-Encoding"); ae != "identity" {
		t.Errorf("GET Accept-Encoding %q, want identity (a compressed answer has a weak ETag)", ae)
	}
	for _, p := range []string{"/missing.xml", "/gone.xml"} {
		if _, _, err := c.Get(ctx, p); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %s: %v", p, err)
		}
	}
	_, _, err = c.Get(ctx, "/boom.xml")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 || he.RetryAfter != 7*time.Second || !IsTemporary(err) {
		t.Errorf("Get 503: %#v", err)
	}

	if err := c.Delete(ctx, item, `"abc"`); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if got := f.last(t).Header.Get("If-Match"); got != `"abc"` {
		t.Errorf("If-Match %q", got)
	}
	if err := c.Delete(ctx, item, "abc"); err != nil || f.last(t).Header.Get("If-Match") != `"abc"` {
		t.Errorf("Delete with a bare etag: %v, If-Match %q", err, f.last(t).Header.Get("If-Match"))
	}
	if err := c.Delete(ctx, item, ""); err != nil || len(f.last(t).Header.Values("If-Match")) != 0 {
		t.Errorf("Delete without etag: %v, If-Match %q", err, f.last(t).Header.Values("If-Match"))
	}
	if err := c.Delete(ctx, item, `"old"`); !errors.Is(err, ErrPreconditionFailed) || IsTemporary(err) {
		t.Errorf("Delete stale: %v", err)
	}
	for _, p := range []string{"/missing.xml", "/gone.xml"} {
		if err := c.Delete(ctx, p, `"x"`); err != nil {
			t.Errorf("Delete %s (already gone): %v", p, err)
		}
	}
	if err := c.Delete(ctx, "/boom.xml", ""); err == nil || !IsTemporary(err) {
		t.Errorf("Delete 503: %v", err)
	}

	if err := c.Put(ctx, item, `"abc"`, []byte("<x/>"), "application/xml"); !errors.Is(err, ErrNotSupported) || IsTemporary(err) {
		t.Errorf("Put 405: %v", err)
	}
	if err := c.Put(ctx, "/ok.ics", `"e1"`, []byte("BEGIN:VCALENDAR"), "text/calendar"); err != nil {
		t.Errorf("Put: %v", err)
	}
	if r := f.last(t); r.Header.Get("If-Match") != `"e1"` || r.Header.Get("Content-Type") != "text/calendar" || r.Body != "BEGIN:VCALENDAR" {
		t.Errorf("Put request %+v", r)
	}
	if err := c.Put(ctx, "/ok.ics", "", []byte("x"), "text/plain"); err != nil || len(f.last(t).Header.Values("If-Match")) != 0 {
		t.Errorf("Put without etag: %v", err)
	}
	if err := c.Put(ctx, "/changed.ics", `"e1"`, nil, "text/plain"); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("Put 412: %v", err)
	}
	for _, p := range []string{"/forbidden.ics", "/ni.ics"} {
		if err := c.Put(ctx, p, "", nil, "text/plain"); !errors.Is(err, ErrNotSupported) {
			t.Errorf("Put %s: %v", p, err)
		}
	}

	s := c.Stats()
	if s.Get != 4 || s.Delete != 7 || s.Put != 6 || s.PropFind != 0 || s.Report != 0 || s.Total() != 17 {
		t.Errorf("stats %+v", s)
	}
}

func TestDisplayName(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if r.Method != "PROPFIND" || r.Header.Get("Depth") != "0" || !strings.Contains(body, "<D:displayname/>") {
			t.Errorf("request %s %q %s", r.Method, r.Header.Get("Depth"), body)
		}
		switch r.URL.Path {
		case "/dav/calendars/user/fred/Default/":
			xmlReply(w, 207, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/calendars/user/fred/Default/</D:href>`+
				`<D:propstat><D:prop><D:displayname> Fred &amp; Co </D:displayname></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, f.URL)
	if n, err := c.DisplayName(context.Background(), "/dav/calendars/user/fred/Default/"); err != nil || n != "Fred & Co" {
		t.Errorf("DisplayName %q %v", n, err)
	}
	if _, err := c.DisplayName(context.Background(), "/nope/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DisplayName 404: %v", err)
	}
}

func TestAuthHeaders(t *testing.T) {
	var got []string
	var mu sync.Mutex
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+"|"+r.Header.Get("User-Agent"))
		mu.Unlock()
		http.NotFound(w, r)
	})
	ctx := context.Background()
	basic := newTestClient(t, f.URL)
	_, _, _ = basic.Get(ctx, "/x")
	bearer := newTestClient(t, f.URL, func(c *Config) {
		c.Username, c.Password, c.BearerToken, c.UserAgent = "", "", "tok-123", "notifyd/test"
	})
	_, _, _ = bearer.Get(ctx, "/x")
	none := newTestClient(t, f.URL, func(c *Config) { c.Username, c.Password = "", "" })
	_, _, _ = none.Get(ctx, "/x")
	want := []string{"Basic bm90aWZpZXI6bm90aWZpZXJwdw==|notifyd", "Bearer tok-123|notifyd/test", "|notifyd"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.Header().Set("WWW-Authenticate", `Basic realm="localhost"`)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "<html><body><h1>Unauthorized</h1>\n\x00\x1b[31m\xff</body></html>")
	})
	c := newTestClient(t, f.URL)
	_, err := c.NotificationURL(context.Background(), "/dav/principals/user/wilma/")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 401 || he.Method != "PROPFIND" || he.URL != f.URL+"/dav/principals/user/wilma/" || IsTemporary(err) {
		t.Fatalf("err %#v", err)
	}
	if he.Body != "<html><body><h1>Unauthorized</h1> \uFFFD\uFFFD[31m\uFFFD</body></html>" {
		t.Errorf("sanitized body %q", he.Body)
	}
	if !strings.Contains(he.Error(), "401 Unauthorized") {
		t.Errorf("Error() = %q", he.Error())
	}
	// go-webdav-based discovery maps its errors too.
	_, err = c.CurrentUserPrincipal(context.Background())
	if !errors.As(err, &he) || he.Status != 401 || IsTemporary(err) {
		t.Errorf("CurrentUserPrincipal: %#v", err)
	}
}

func TestCurrentUserPrincipalAndHome(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case strings.Contains(body, "current-user-principal"):
			xmlReply(w, 207, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/</D:href><D:propstat><D:prop>`+
				`<D:current-user-principal><D:href>/dav/principals/user/notifier/</D:href></D:current-user-principal>`+
				`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
		case strings.Contains(body, "calendar-home-set"):
			xmlReply(w, 207, `<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>/dav/principals/user/notifier/</D:href><D:propstat><D:prop>`+
				`<C:calendar-home-set><D:href>/dav/calendars/user/notifier/</D:href></C:calendar-home-set>`+
				`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
		default:
			w.WriteHeader(400)
		}
	})
	c := newTestClient(t, f.URL+"/dav")
	p, err := c.CurrentUserPrincipal(context.Background())
	if err != nil || p != "/dav/principals/user/notifier/" {
		t.Fatalf("CurrentUserPrincipal %q %v", p, err)
	}
	if r := f.last(t); strings.TrimSuffix(r.Path, "/") != "/dav" || r.Header.Get("Authorization") == "" || r.Header.Get("User-Agent") != "notifyd" {
		t.Errorf("request %+v", r)
	}
	h, err := c.CalendarHomeSet(context.Background(), p)
	if err != nil || h != "/dav/calendars/user/notifier/" {
		t.Fatalf("CalendarHomeSet %q %v", h, err)
	}
	if s := c.Stats(); s.PropFind != 2 {
		t.Errorf("stats %+v", s)
	}
	if _, err := c.CalendarHomeSet(context.Background(), "http://elsewhere.example/p/"); !errors.Is(err, ErrOffOrigin) {
		t.Errorf("CalendarHomeSet off-origin: %v", err)
	}
}

func TestTimeoutsAndConnectionErrors(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	defer close(release)
	c := newTestClient(t, f.URL, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	start := time.Now()
	_, _, err := c.Get(context.Background(), "/slow")
	if err == nil || !IsTemporary(err) {
		t.Fatalf("timeout: %v (temporary %v)", err, IsTemporary(err))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %s", d)
	}

	c2 := newTestClient(t, f.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c2.Sync(ctx, wilmaColl, "")
	if !errors.Is(err, context.DeadlineExceeded) || !IsTemporary(err) {
		t.Errorf("context deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err = c2.Sync(ctx, wilmaColl, "")
	if !errors.Is(err, context.Canceled) || IsTemporary(err) {
		t.Errorf("cancelled: %v", err)
	}

	// Nothing listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c3 := newTestClient(t, "http://"+addr)
	_, err = c3.Sync(context.Background(), wilmaColl, "")
	if err == nil || !IsTemporary(err) {
		t.Errorf("connection refused: %v (temporary %v)", err, IsTemporary(err))
	}

	// The server hangs up mid-answer.
	hang := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(207)
		_, _ = io.WriteString(w, "<D:multistatus")
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	c4 := newTestClient(t, hang.URL)
	if _, err := c4.Sync(context.Background(), wilmaColl, ""); err == nil || !IsTemporary(err) {
		t.Errorf("truncated body: %v (temporary %v)", err, IsTemporary(err))
	}
}

func TestIsTemporary(t *testing.T) {
	he := func(method string, status int) error { return &HTTPError{Method: method, Status: status} }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{he("GET", 500), true},
		{he("GET", 502), true},
		{he("GET", 503), true},
		{he("GET", 504), true},
		{he("GET", 501), false},
		{he("GET", 507), false},
		{he("PROPFIND", 507), false},
		{he("REPORT", 507), true},
		{he("GET", 429), true},
		{he("GET", 408), true},
		{he("GET", 400), false},
		{he("GET", 401), false},
		{he("GET", 403), false},
		{he("GET", 404), false},
		{he("GET", 409), false},
		{he("GET", 301), false},
		{fmt.Errorf("wrapped: %w", he("GET", 502)), true},
		{ErrNotFound, false},
		{ErrInvalidSyncToken, false},
		{ErrPreconditionFailed, false},
		{ErrNotSupported, false},
		{ErrTooLarge, false},
		{ErrOffOrigin, false},
		{fmt.Errorf("%w: %w", ErrNotFound, he("GET", 503)), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{&transportError{err: io.ErrUnexpectedEOF}, true},
		{&transportError{err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true},
		{&transportError{err: &net.DNSError{Err: "no such host", IsNotFound: true}}, false},
		{&transportError{err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}}, true},
		{&url.Error{Op: "Get", Err: &net.OpError{Op: "read", Err: errors.New("reset")}}, true},
		{protoErrorf("malformed"), false},
		{errors.New("something else"), false},
	} {
		if got := IsTemporary(tc.err); got != tc.want {
			t.Errorf("IsTemporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-3":                            0,
		"nonsense":                      0,
		"Sat, 21 Nov 2026 06:00:30 GMT": 30 * time.Second,
		"Sat, 21 Nov 2026 05:00:00 GMT": 0,
		"99999999":                      24 * time.Hour,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSanitizeBody(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	got := sanitizeBody([]byte(long))
	if len(got) > maxErrorBody || !strings.HasPrefix(long, got) || len(got) != 512 {
		t.Errorf("len %d, prefix %v", len(got), strings.HasPrefix(long, got))
	}
	if got := sanitizeBody([]byte("a\r\n\tb\u202ec")); got != "a b\uFFFDc" {
		t.Errorf("got %q", got)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{BaseURL: "ftp://h/"},
		{BaseURL: "http:///path"},
		{BaseURL: "http://u:p@h/"},
		{BaseURL: "http://h/?q=1"},
		{BaseURL: "http://h/#f"},
		{BaseURL: "http://h/", Username: "u", BearerToken: "t"},
		{BaseURL: "http://h/", Password: "p"},
		{BaseURL: "http://h/", Username: "a:b"},
		{BaseURL: "http://h/", BearerToken: "a\nb"},
		{BaseURL: "://bad"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	c, err := New(Config{BaseURL: "HTTPS://Cal.Example.COM/dav"})
	if err != nil {
		t.Fatal(err)
	}
	if c.origin != "https://cal.example.com:443" || c.base.Path != "/dav/" {
		t.Errorf("origin %q path %q", c.origin, c.base.Path)
	}
	if u, err := c.resolve(nil, "principals/x/"); err != nil || u.String() != "https://Cal.Example.COM/dav/principals/x/" {
		t.Errorf("relative href: %v %v", u, err)
	}
	if _, err := c.resolve(nil, "https://cal.example.com:443/x"); err != nil {
		t.Errorf("explicit default port refused: %v", err)
	}
	if _, err := c.resolve(nil, "https://cal.example.com:8443/x"); !errors.Is(err, ErrOffOrigin) {
		t.Errorf("other port: %v", err)
	}
	if c.guard.hc.Timeout != defaultTimeout || c.transport.MaxIdleConnsPerHost != 32 || c.guard.userAgent != "notifyd" {
		t.Error("defaults not applied")
	}
	if c.transport.TLSClientConfig.InsecureSkipVerify {
		t.Error("TLS verification off by default")
	}
	c2, _ := New(Config{BaseURL: "https://h/", InsecureSkipVerify: true})
	if !c2.transport.TLSClientConfig.InsecureSkipVerify {
		t.Error("InsecureSkipVerify not applied")
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"t"`)
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	_, _, err := c.Get(context.Background(), "/x")
	if err == nil || IsTemporary(err) {
		t.Errorf("self-signed certificate: %v (temporary %v)", err, IsTemporary(err))
	}
	c = newTestClient(t, srv.URL, func(c *Config) { c.InsecureSkipVerify = true })
	if b, etag, err := c.Get(context.Background(), "/x"); err != nil || string(b) != "ok" || etag != `"t"` {
		t.Errorf("InsecureSkipVerify: %q %q %v", b, etag, err)
	}
}

func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	for i := 0; i < 10; i++ {
		if _, _, err := c.Get(context.Background(), "/x"); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 10 sequential requests", n)
	}
}

// TestMaxConnections checks that concurrent requests beyond
// MaxConnections wait for a connection instead of opening more: a server
// that runs a process per connection (Cyrus) sees at most that many.
func TestMaxConnections(t *testing.T) {
	var open, peak atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n := open.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxConnections = 2 })

	const requests = 10
	errs := make(chan error, requests)
	for i := 0; i < requests; i++ {
		go func() {
			_, _, err := c.Get(context.Background(), "/x")
			errs <- err
		}()
	}
	// Let every request reach the transport before any is answered.
	time.Sleep(200 * time.Millisecond)
	close(release)
	for i := 0; i < requests; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("%d connections open at once for %d concurrent requests, want MaxConnections (2)", p, requests)
	}
	if n := c.Stats().Connections; n != 2 {
		t.Errorf("%d connections opened, want 2 (the waiting requests reuse them)", n)
	}
}
