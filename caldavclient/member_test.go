package caldavclient

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// dotMembers are member hrefs with a dot segment that a server which
// decodes, drops ";" parameters or decodes "%2f" would resolve outside the
// collection.
var dotMembers = []string{
	wilmaColl + "%2e%2e/%2e%2e/admin/calendars/y.xml",
	wilmaColl + "%2E%2E/%2E%2E/admin/calendars/y.xml",
	wilmaColl + ".%2e/x.xml",
	wilmaColl + "%2e/x.xml",
	wilmaColl + "..;x/..;x/admin/calendars/y.xml",
	wilmaColl + "%2e%2e;x/y.xml",
	wilmaColl + ".;x/y.xml",
	wilmaColl + "..%2f..%2fadmin%2fcalendars%2fy.xml",
	wilmaColl + "a%2F..%2F..%2Fadmin.xml",
	wilmaColl + "..%5c..%5cadmin.xml",
	wilmaColl + "%252e%252e/%252e%252e/admin/y.xml",
}

// hostileMembers are dotMembers and other hrefs a sync answer must not
// make the client use: an encoded slash that splits a segment, a NUL, a
// member of another collection, the parent.
var hostileMembers = append(append([]string(nil), dotMembers...),
	wilmaColl+"x%2fy.xml",
	wilmaColl+"x%00.xml",
	"/dav/calendars/user/fred/Default/not-a-member.ics",
	wilmaColl+"..",
)

// TestSyncSkipsMembersOutsideTheCollection runs what the engine does with
// a sync (GET every changed member, then DELETE it) against a server whose
// answer names hostile members: only the real member is fetched and
// deleted, and a warning says the server sent members outside the
// collection.
func TestSyncSkipsMembersOutsideTheCollection(t *testing.T) {
	var answer strings.Builder
	answer.WriteString(`<D:multistatus xmlns:D="DAV:">`)
	member := func(href, status string) {
		fmt.Fprintf(&answer, `<D:response><D:href>%s</D:href><D:propstat><D:prop><D:getetag>"e"</D:getetag></D:prop>`+
			`<D:status>HTTP/1.1 %s</D:status></D:propstat></D:response>`, href, status)
	}
	member(wilmaColl+"good.xml", "200 OK")
	for _, h := range hostileMembers {
		member(h, "200 OK")
	}
	// Deleted members outside are not reported either.
	fmt.Fprintf(&answer, `<D:response><D:href>%s</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`, hostileMembers[0])
	answer.WriteString(`<D:sync-token>t1</D:sync-token></D:multistatus>`)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		switch r.Method {
		case "REPORT":
			xmlReply(w, http.StatusMultiStatus, answer.String())
		case http.MethodGet:
			w.Header().Set("ETag", `"e"`)
			_, _ = w.Write([]byte(sampleInviteNotification))
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	var logs bytes.Buffer
	c := newTestClient(t, f.URL, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	ctx := context.Background()

	res, err := c.Sync(ctx, wilmaColl, "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Changed) != fmt.Sprint([]Resource{{Href: wilmaColl + "good.xml", ETag: `"e"`}}) || len(res.Deleted) != 0 {
		t.Fatalf("sync reported %+v, want only good.xml", res)
	}
	for _, r := range res.Changed {
		if _, _, err := c.Get(ctx, r.Href); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, r.Href, r.ETag); err != nil {
			t.Fatal(err)
		}
	}
	// Asked directly (an href stored before this check), those with a dot
	// segment are refused before anything is sent.
	for _, h := range dotMembers {
		if _, _, err := c.Get(ctx, h); err == nil || IsTemporary(err) {
			t.Errorf("Get(%s): %v", h, err)
		}
		if err := c.Delete(ctx, h, ""); err == nil || IsTemporary(err) {
			t.Errorf("Delete(%s): %v", h, err)
		}
	}

	want := []string{"REPORT " + wilmaColl, "GET " + wilmaColl + "good.xml", "DELETE " + wilmaColl + "good.xml"}
	var got []string
	for _, r := range f.requests() {
		got = append(got, r.Method+" "+r.RequestURI)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out := logs.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "sync members outside the collection") ||
		!strings.Contains(out, fmt.Sprintf("members_outside=%d", len(hostileMembers)+1)) {
		t.Errorf("want one warning counting %d members outside the collection, got:\n%s", len(hostileMembers)+1, out)
	}
}

func TestUnsafePath(t *testing.T) {
	for _, tc := range []struct {
		path          string
		loose, strict bool // refused by unsafePath(path, false), (path, true)
	}{
		{"/dav/notifications/user/wilma/x.xml", false, false},
		{"/dav/notifications/user/wilma/new%20one.xml", false, false},
		{"/a/b;v=1/c.xml", false, false},
		{"/a/..b/c..xml", false, false},
		{"/a/%2e%2e/b", true, true},
		{"/a/%2E/b", true, true},
		{"/a/..;x/b", true, true},
		{"/a/.;x/b", true, true},
		{"/a/%2e%2e%3bx/b", true, true},
		{"/a/..%2fb", true, true},
		{"/a/..%5cb", true, true},
		{"/a/%252e%252e/b", true, true},
		{"/a/x%2fy", false, true},
		{"/a/x%5Cy", false, true},
		{"/a/x%00y", true, true},
		{"/a/100%25/b", false, false},
	} {
		if got := unsafePath(tc.path, false); got != tc.loose {
			t.Errorf("unsafePath(%s, false) = %v", tc.path, got)
		}
		if got := unsafePath(tc.path, true); got != tc.strict {
			t.Errorf("unsafePath(%s, true) = %v", tc.path, got)
		}
	}
}
