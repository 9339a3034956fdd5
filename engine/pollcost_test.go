package engine_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// davServer is a CalDAV server for n principals u0…u(n-1), each with one
// calendar of events, in a home of its own or, as on Cyrus, all in one
// home shared by every principal. It reports each calendar's
// DAV:sync-token property in the home's listing.
type davServer struct {
	*httptest.Server
	shared bool
	mu     sync.Mutex
	gen    map[int]int            // principal → its calendar's generation (its sync token)
	events map[int]map[string]int // principal → event href → generation it was written at
	ics    map[string]string      // event href → data
}

func userP(i int) string { return fmt.Sprintf("/dav/principals/user/u%d/", i) }

func (s *davServer) home(i int) string {
	if s.shared {
		return "/dav/calendars/user/notifier/"
	}
	return fmt.Sprintf("/dav/calendars/user/u%d/", i)
}

func (s *davServer) calendar(i int) string {
	if s.shared {
		return fmt.Sprintf("/dav/calendars/user/notifier/u%d.Default/", i)
	}
	return fmt.Sprintf("/dav/calendars/user/u%d/Default/", i)
}

const davHead = `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`

func newDAVServer(t *testing.T, n int, shared bool) *davServer {
	s := &davServer{shared: shared, gen: map[int]int{}, events: map[int]map[string]int{}, ics: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	for i := range n {
		s.gen[i] = 1
	}
	return s
}

func (s *davServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	reply := func(xml string) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		_, _ = io.WriteString(w, davHead+xml+`</D:multistatus>`)
	}
	var i int
	switch {
	case r.Method == "PROPFIND" && strings.HasPrefix(r.URL.Path, "/dav/principals/user/"):
		if _, err := fmt.Sscanf(r.URL.Path, "/dav/principals/user/u%d/", &i); err != nil || s.gen[i] == 0 {
			http.NotFound(w, r)
			return
		}
		reply(`<D:response><D:href>` + r.URL.Path + `</D:href><D:propstat><D:prop><C:calendar-home-set><D:href>` + s.home(i) +
			`</D:href></C:calendar-home-set><C:calendar-user-address-set><D:href>mailto:u` + fmt.Sprint(i) +
			`@example.org</D:href></C:calendar-user-address-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
	case r.Method == "PROPFIND" && r.Header.Get("Depth") == "1":
		var b strings.Builder
		for j := range len(s.gen) {
			if s.home(j) == r.URL.Path {
				b.WriteString(`<D:response><D:href>` + s.calendar(j) + `</D:href><D:propstat><D:prop>` +
					`<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:owner><D:href>` + userP(j) + `</D:href></D:owner>` +
					`<D:sync-token>data:,` + fmt.Sprint(s.gen[j]) + `</D:sync-token>` +
					`<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>` +
					`</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
			}
		}
		reply(b.String())
	case r.Method == "REPORT" && strings.Contains(string(body), "sync-collection"):
		for j := range len(s.gen) {
			if s.calendar(j) != r.URL.Path {
				continue
			}
			var b strings.Builder
			for href, g := range s.events[j] {
				b.WriteString(`<D:response><D:href>` + href + `</D:href><D:propstat><D:prop><D:getetag>"` + fmt.Sprint(g) +
					`"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
			}
			// A token of another form than the property's.
			reply(b.String() + `<D:sync-token>http://example.org/sync/` + fmt.Sprint(s.gen[j]) + `</D:sync-token>`)
			return
		}
		http.NotFound(w, r)
	case r.Method == "REPORT" && strings.Contains(string(body), "calendar-multiget"):
		var b strings.Builder
		for href, ics := range s.ics {
			if strings.Contains(string(body), href) {
				b.WriteString(`<D:response><D:href>` + href + `</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag>` +
					`<C:calendar-data>` + ics + `</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`)
			}
		}
		reply(b.String())
	default:
		http.NotFound(w, r)
	}
}

// putEvent writes an event of principal i starting at start with an
// alarm 15 minutes before, and moves its calendar's token on.
func (s *davServer) putEvent(i int, name string, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen[i]++
	href := s.calendar(i) + name + ".ics"
	if s.events[i] == nil {
		s.events[i] = map[string]int{}
	}
	s.events[i][href] = s.gen[i]
	s.ics[href] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//notifyd test//EN\r\nBEGIN:VEVENT\r\nUID:" + name + "\r\n" +
		"DTSTAMP:20261206T000000Z\r\nDTSTART:" + start.UTC().Format("20060102T150405Z") + "\r\nDURATION:PT1H\r\nSUMMARY:" + name + "\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// newPollRig is a rig on s's principals, all subscribed to reminders,
// with the real CalDAV client (whose requests it counts).
func newPollRig(t *testing.T, s *davServer, n int) (*rig, *caldavclient.Client) {
	client, err := caldavclient.New(caldavclient.Config{BaseURL: s.URL + "/dav/", Username: "notifier", Password: "notifierpw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	r := newRigOn(t, testdb.Open(t), engine.PolicyKeep, func(o *engine.Options) {
		o.Systems[0].CalDAV = client
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	for i := range n {
		r.subscribe(t, userP(i), fmt.Sprintf("u%d@example.org", i))
	}
	return r, client
}

// calendarSyncsDone returns a function that waits for n more calendar
// syncs to complete.
func (r *rig) calendarSyncsDone(t testing.TB) func(n int) {
	events, cancel := r.eng.SubscribeForTest(river.EventKindJobCompleted)
	t.Cleanup(cancel)
	kind := (engine.SyncCalendarsArgs{}).Kind()
	return func(n int) {
		t.Helper()
		deadline := time.After(time.Minute)
		for n > 0 {
			select {
			case ev := <-events:
				if ev.Job.Kind == kind {
					n--
				}
			case <-deadline:
				t.Fatalf("%d calendar syncs still not completed after a minute", n)
			}
		}
	}
}

// pollRound runs a poll round of every principal, and waits for its n
// syncs.
func (r *rig) pollRound(t testing.TB, n int, wait func(int)) {
	t.Helper()
	if err := r.eng.PollCalendarsForTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(n)
}

// A poll of principals whose calendars did not change costs one request
// per principal (the listing of its home) and no REPORT; on a server
// where every principal shares one home (Cyrus), one request for all.
// A calendar that changed is synced, the others not; a ping's sync sees
// a change made after the poll's listing.
func TestPollCostsOneRequestPerPrincipal(t *testing.T) {
	t.Parallel()
	const n = 12
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			t.Parallel()
			s := newDAVServer(t, n, shared)
			r, client := newPollRig(t, s, n)
			wait := r.calendarSyncsDone(t)
			// Round 0: the engine's first poll, at its start, syncs each
			// calendar for the first time.
			r.start(t)
			wait(n)

			per := 1 // listings per round
			if !shared {
				per = n
			}
			for round := 1; round <= 3; round++ {
				before := client.Stats()
				r.pollRound(t, n, wait)
				d := client.Stats()
				if props, reports := d.PropFind-before.PropFind, d.Report-before.Report; props != uint64(per) || reports != 0 || d.Total()-before.Total() != uint64(per) {
					t.Errorf("round %d with nothing changed: %d PROPFINDs, %d REPORTs for %d principals; want %d and 0", round, props, reports, n, per)
				}
			}

			// u3's calendar changed: a round lists and REPORTs it only.
			start := time.Now().Add(2 * time.Hour).Truncate(time.Second)
			s.putEvent(3, "standup", start)
			before := client.Stats()
			r.pollRound(t, n, wait)
			d := client.Stats()
			if reports := d.Report - before.Report; reports != 2 || d.PropFind-before.PropFind != uint64(per) {
				t.Errorf("a round with one calendar changed: %d PROPFINDs, %d REPORTs; want %d and 2 (sync, multiget)",
					d.PropFind-before.PropFind, reports, per)
			}
			if got := r.remindersOf(t, userP(3)); got != 1 {
				t.Errorf("%d reminders of u3, want 1", got)
			}

			// A round lists the home (its listing stays a minute); then
			// u5 adds an event and pings: its sync lists the home again
			// and sees it.
			r.pollRound(t, n, wait)
			s.putEvent(5, "review", start)
			before = client.Stats()
			r.ping(t, userP(5))
			wait(1)
			if got := r.remindersOf(t, userP(5)); got != 1 {
				t.Errorf("%d reminders of u5 after a ping, want 1: the ping's sync used the poll's listing", got)
			}
			if d := client.Stats(); d.Report-before.Report != 2 {
				t.Errorf("the ping's sync sent %d REPORTs, want 2 (sync, multiget)", d.Report-before.Report)
			}
		})
	}
}

// remindersOf counts the reminders of principal p.
func (r *rig) remindersOf(t *testing.T, p string) int {
	t.Helper()
	rs, err := r.db.Reminders(context.Background(), store.ReminderFilter{System: "cal", Principal: p, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}
