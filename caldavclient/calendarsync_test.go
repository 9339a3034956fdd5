package caldavclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// syncMember is a sync-collection response for a changed member.
func syncMember(href, etag string) string {
	return `<D:response><D:href>` + href + `</D:href><D:propstat><D:prop><D:getetag>` + etag +
		`</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
}

// TestSyncCalendar runs what the reminder engine does on a calendar:
// a first sync lists every member, one with nothing new sends exactly
// one REPORT, then a change and a deletion, then a refused token.
func TestSyncCalendar(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method != "REPORT" || r.URL.Path != fredDefault:
			http.NotFound(w, r)
		case strings.Contains(body, "<D:sync-token/>"):
			xmlReply(w, http.StatusMultiStatus, mgHead+
				syncMember(fredDefault+"ev1.ics", `"1"`)+syncMember(fredDefault+"ev2.ics", `"2"`)+syncMember(fredDefault+"task.ics", `"3"`)+
				`<D:sync-token>data:,1-3</D:sync-token>`+mgTail)
		case strings.Contains(body, "<D:sync-token>data:,1-3</D:sync-token>"):
			xmlReply(w, http.StatusMultiStatus, mgHead+`<D:sync-token>data:,1-3</D:sync-token>`+mgTail)
		case strings.Contains(body, "<D:sync-token>data:,1-4</D:sync-token>"):
			xmlReply(w, http.StatusMultiStatus, mgHead+
				syncMember(fredDefault+"ev2.ics", `"2b"`)+
				`<D:response><D:href>`+fredDefault+`task.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`+
				`<D:sync-token>data:,1-6</D:sync-token>`+mgTail)
		default:
			xmlReply(w, http.StatusForbidden, sampleInvalidToken)
		}
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	first, err := c.Sync(ctx, fredDefault, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{{fredDefault + "ev1.ics", `"1"`}, {fredDefault + "ev2.ics", `"2"`}, {fredDefault + "task.ics", `"3"`}}
	if first.Token != "data:,1-3" || fmt.Sprint(first.Changed) != fmt.Sprint(want) || len(first.Deleted) != 0 {
		t.Errorf("first sync: %+v", first)
	}

	before := c.Stats()
	same, err := c.Sync(ctx, fredDefault, first.Token)
	if err != nil || same.Token != first.Token || len(same.Changed)+len(same.Deleted) != 0 {
		t.Errorf("sync with nothing new: %+v, %v", same, err)
	}
	if d := c.Stats(); d.Report-before.Report != 1 || d.Total()-before.Total() != 1 {
		t.Errorf("a sync with nothing new sent %d requests (%d REPORTs), want exactly 1 REPORT", d.Total()-before.Total(), d.Report-before.Report)
	}

	res, err := c.Sync(ctx, fredDefault, "data:,1-4")
	if err != nil {
		t.Fatal(err)
	}
	if res.Token != "data:,1-6" || fmt.Sprint(res.Changed) != fmt.Sprint([]Resource{{fredDefault + "ev2.ics", `"2b"`}}) ||
		fmt.Sprint(res.Deleted) != fmt.Sprint([]string{fredDefault + "task.ics"}) {
		t.Errorf("sync after a change and a deletion: %+v", res)
	}

	if _, err := c.Sync(ctx, fredDefault, "bogus"); !errors.Is(err, ErrInvalidSyncToken) || IsTemporary(err) {
		t.Errorf("refused token: %v", err)
	}
	if body := f.last(t).Body; strings.Contains(body, "calendar-data") || !strings.Contains(body, "<D:prop><D:getetag/></D:prop>") {
		t.Errorf("a sync asks for more than the etag:\n%s", body)
	}
}

// TestSyncCalendarTruncatedThenDeleted checks a truncated (507) calendar
// sync whose later part deletes a member the first part reported changed.
func TestSyncCalendarTruncatedThenDeleted(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		if strings.Contains(body, "<D:sync-token/>") {
			xmlReply(w, http.StatusMultiStatus, mgHead+syncMember(fredDefault+"a.ics", `"a"`)+syncMember(fredDefault+"b.ics", `"b"`)+
				`<D:response><D:href>`+fredDefault+`</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>`+
				`<D:sync-token>part</D:sync-token>`+mgTail)
			return
		}
		xmlReply(w, http.StatusMultiStatus, mgHead+syncMember(fredDefault+"c.ics", `"c"`)+
			`<D:response><D:href>`+fredDefault+`a.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`+
			`<D:sync-token>whole</D:sync-token>`+mgTail)
	})
	c := newTestClient(t, f.URL)
	res, err := c.Sync(context.Background(), fredDefault, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Token != "whole" || fmt.Sprint(res.Changed) != fmt.Sprint([]Resource{{fredDefault + "b.ics", `"b"`}, {fredDefault + "c.ics", `"c"`}}) ||
		fmt.Sprint(res.Deleted) != fmt.Sprint([]string{fredDefault + "a.ics"}) || c.Stats().Report != 2 {
		t.Errorf("merged sync: %+v after %d REPORTs", res, c.Stats().Report)
	}
}

// TestCollectionMoved checks that a collection redirected to another path
// (as Cyrus redirects another user's calendar to the reader's view of it)
// is an error naming that path, not a sync that finds every member
// outside the collection and reports none.
func TestCollectionMoved(t *testing.T) {
	const owners = "/dav/calendars/user/fred/Default/"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Path {
		case owners:
			http.Redirect(w, r, fredDefault, http.StatusMovedPermanently)
		case fredDefault:
			xmlReply(w, http.StatusMultiStatus, mgHead+syncMember(fredDefault+"ev1.ics", `"1"`)+`<D:sync-token>t</D:sync-token>`+mgTail)
		}
	})
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	res, err := c.Sync(ctx, owners, "")
	if !errors.Is(err, ErrMoved) || !strings.Contains(err.Error(), "answers at "+fredDefault) || res != nil || IsTemporary(err) {
		t.Errorf("Sync of a moved collection: %+v, %v", res, err)
	}
	objs, err := c.MultiGet(ctx, owners, []string{"ev1.ics"})
	if !errors.Is(err, ErrMoved) || objs != nil {
		t.Errorf("MultiGet of a moved collection: %+v, %v", objs, err)
	}
	// The REPORT was sent again to the new path (same origin), once.
	if n := c.Stats().Report; n != 4 {
		t.Errorf("%d REPORTs, want 4 (2 requests, each redirected once)", n)
	}
	if res, err := c.Sync(ctx, fredDefault, ""); err != nil || len(res.Changed) != 1 {
		t.Errorf("Sync of the new path: %+v, %v", res, err)
	}
}
