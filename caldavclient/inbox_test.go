package caldavclient

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// inboxListing is Cyrus's listing of the notifier's home once it
// subscribed to fred's inbox: its own inbox, fred's, and fred's calendar.
const inboxListing = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>/dav/calendars/user/notifier/Inbox/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:schedule-inbox/></D:resourcetype><D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner><D:sync-token>data:,1-3</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/dav/calendars/user/notifier/fred.Default/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:owner><D:href>/dav/principals/user/fred/</D:href></D:owner><D:sync-token>data:,2-5</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/dav/calendars/user/notifier/fred.Inbox/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:schedule-inbox/></D:resourcetype><D:owner><D:href>/dav/principals/user/fred/</D:href></D:owner><D:sync-token>data:,2-7</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>`

// The inbox is the one the principal owns, from the same listing as its
// calendars (no request more), and it is not one of its calendars; the
// service account's own inbox is never taken for another's.
func TestScheduleInboxFromListing(t *testing.T) {
	f := homeServer(t, func() string { return inboxListing })
	c := newTestClient(t, f.URL)
	ctx := context.Background()
	since := time.Now()
	cals, err := c.CalendarsListedSince(ctx, fredPrincipal, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(cals) != 1 || cals[0].Href != "/dav/calendars/user/notifier/fred.Default/" {
		t.Errorf("calendars %+v", cals)
	}
	before := f.hits.Load()
	in, err := c.ScheduleInboxListedSince(ctx, fredPrincipal, since)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Inbox{Href: "/dav/calendars/user/notifier/fred.Inbox/", SyncToken: "data:,2-7"}); in != want {
		t.Errorf("inbox %+v, want %+v", in, want)
	}
	if n := f.hits.Load() - before; n != 0 {
		t.Errorf("%d requests for the inbox, want 0 (the calendars' listing)", n)
	}
	if _, err := c.ScheduleInboxListedSince(ctx, "/dav/principals/user/wilma/", since); !errors.Is(err, ErrNotFound) {
		t.Errorf("wilma's inbox: %v, want ErrNotFound (only the notifier's and fred's are listed)", err)
	}
}

// A server that refuses sync-collection on its inbox is listed with
// PROPFIND instead, and from then on without trying the REPORT.
func TestInboxChangesFallsBackToListing(t *testing.T) {
	const inbox = "/cal/fred/inbox/"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "REPORT":
			http.Error(w, "no", http.StatusForbidden)
		case r.Method == "PROPFIND" && r.URL.Path == inbox && r.Header.Get("Depth") == "1":
			xmlReply(w, http.StatusMultiStatus, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">
<D:response><D:href>/cal/fred/inbox/</D:href><D:propstat><D:prop><D:getetag>"c"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/fred/inbox/a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/wilma/inbox/b.ics</D:href><D:propstat><D:prop><D:getetag>"2"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>`)
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, f.URL)
	for round := 0; round < 2; round++ {
		res, full, err := c.InboxChanges(context.Background(), inbox, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := []Resource{{Href: "/cal/fred/inbox/a.ics", ETag: `"1"`}}; !full || res.Token != "" || !reflect.DeepEqual(res.Changed, want) {
			t.Errorf("round %d: full %v result %+v", round, full, res)
		}
	}
	var methods []string
	for _, r := range f.requests() {
		methods = append(methods, r.Method)
	}
	if got := strings.Join(methods, " "); got != "REPORT PROPFIND PROPFIND" {
		t.Errorf("requests %s, want REPORT PROPFIND PROPFIND", got)
	}
}

// An inbox outside the calendar home (Xandikos's /USER/inbox/) is found
// by the principal's schedule-inbox-URL when it is the principal's; the
// reader's own inbox, which Cyrus names for every principal, is refused,
// and not asked about again.
func TestScheduleInboxFromURL(t *testing.T) {
	for _, tc := range []struct {
		name, owner string
		want        bool
	}{
		{"no owner (Xandikos)", `<D:owner/>`, true},
		{"the principal's", `<D:owner><D:href>/dav/principals/user/fred/</D:href></D:owner>`, true},
		{"the reader's (Cyrus)", `<D:owner><D:href>/dav/principals/user/notifier/</D:href></D:owner>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				switch {
				case r.URL.Path == fredPrincipal:
					xmlReply(w, http.StatusMultiStatus, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>`+fredPrincipal+`</D:href><D:propstat><D:prop><C:calendar-home-set><D:href>/fred/calendars/</D:href></C:calendar-home-set>`+
						`<C:schedule-inbox-URL><D:href>/fred/inbox</D:href></C:schedule-inbox-URL></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
				case r.URL.Path == "/fred/calendars/":
					xmlReply(w, http.StatusMultiStatus, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"></D:multistatus>`)
				case r.URL.Path == "/fred/inbox":
					xmlReply(w, http.StatusMultiStatus, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:response><D:href>/fred/inbox/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:schedule-inbox/></D:resourcetype>`+tc.owner+
						`<D:sync-token>tok-1</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`)
				default:
					http.NotFound(w, r)
				}
			})
			c := newTestClient(t, f.URL)
			for call := 0; call < 2; call++ {
				in, err := c.ScheduleInboxListedSince(context.Background(), fredPrincipal, time.Time{})
				switch {
				case tc.want && (err != nil || in != Inbox{Href: "/fred/inbox", SyncToken: "tok-1"}):
					t.Errorf("call %d: %+v %v", call, in, err)
				case !tc.want && !errors.Is(err, ErrNotFound):
					t.Errorf("call %d: %+v %v, want ErrNotFound", call, in, err)
				}
			}
			n := 0
			for _, r := range f.requests() {
				if r.Path == "/fred/inbox" {
					n++
				}
			}
			if want := map[bool]int{true: 2, false: 1}[tc.want]; n != want {
				t.Errorf("%d PROPFINDs of the inbox, want %d", n, want)
			}
		})
	}
}
