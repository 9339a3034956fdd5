package api_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/notifyd/notifyd/internal/testdb"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// accepted is the 202 body of a ping.
type accepted struct {
	Queued    int `json:"queued"`
	NewJobs   int `json:"new_jobs"`
	Coalesced int `json:"coalesced"`
}

// ping posts body (a value to marshal, or a raw string) with an optional
// bearer token and returns the 202 body, failing t on any other answer.
func (h *harness) ping(t *testing.T, body any, bearer string) accepted {
	t.Helper()
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, body), bearer: bearer})
	if res.status != http.StatusAccepted {
		t.Fatalf("ping: status %d, want 202; body %s", res.status, res.body)
	}
	var a accepted
	res.decode(t, &a)
	return a
}

func hrefsPing(system, token string, hrefs ...string) map[string]any {
	m := map[string]any{"system": system, "hrefs": hrefs}
	if token != "" {
		m["token"] = token
	}
	return m
}

func TestPingBedeworkShapeQueuesEachPrincipal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	got := h.ping(t, hrefsPing(sysCal, tokenCal, "/principals/users/fred", "/principals/users/jim"), "")
	if want := (accepted{Queued: 2, NewJobs: 2}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if p, want := h.principals(t, sysCal), []string{"/principals/users/fred", "/principals/users/jim"}; !reflect.DeepEqual(p, want) {
		t.Fatalf("principal_state rows %q, want %q", p, want)
	}
	for _, p := range []string{"/principals/users/fred", "/principals/users/jim"} {
		if n := h.jobsFor(t, sysCal, p); n != 1 {
			t.Errorf("%s has %d sync jobs, want 1", p, n)
		}
	}
	// The job is the one the sync workers take: kind, queue and state.
	var jobs []string
	err := testdb.Query(h.db, `SELECT kind, queue, state, json(args) FROM river_job ORDER BY id`, nil, func(rows *sql.Rows) error {
		var kind, queue, state, args string
		if err := rows.Scan(&kind, &queue, &state, &args); err != nil {
			return err
		}
		var a map[string]string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			return fmt.Errorf("job args %q: %v", args, err)
		}
		jobs = append(jobs, fmt.Sprintf("%s %s %s %s %s", kind, queue, state, a["system"], a["principal"]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sync_principal sync available cal /principals/users/fred",
		"sync_principal sync available cal /principals/users/jim",
	}
	if !reflect.DeepEqual(jobs, want) {
		t.Fatalf("jobs\n%q\nwant\n%q", jobs, want)
	}

	m := h.metrics(t)
	for series, want := range map[string]float64{
		"notifyd_pings_accepted_total":       1,
		"notifyd_principals_queued_total":    2,
		"notifyd_principals_coalesced_total": 0,
		`notifyd_backlog{work="syncs"}`:      2,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

func TestPingSingleShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	got := h.ping(t, map[string]any{"system": sysCal, "token": tokenCal, "href": "/principals/users/fred", "resourceName": "9f1c2a.xml"}, "")
	if want := (accepted{Queued: 1, NewJobs: 1}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if p := h.principals(t, sysCal); !reflect.DeepEqual(p, []string{"/principals/users/fred"}) {
		t.Fatalf("principal_state rows %q", p)
	}
	if n := h.jobsFor(t, sysCal, "/principals/users/fred"); n != 1 {
		t.Fatalf("%d jobs, want 1", n)
	}
	// resourceName is optional.
	got = h.ping(t, map[string]any{"system": sysCal, "token": tokenCal, "href": "/principals/users/jim"}, "")
	if want := (accepted{Queued: 1, NewJobs: 1}); got != want {
		t.Fatalf("without resourceName: got %+v, want %+v", got, want)
	}
}

func TestPingBearerToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Any of the system's tokens, as a bearer token instead of in the body.
	if got := h.ping(t, hrefsPing(sysCal, "", "/p/a"), tokenCal2); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("bearer: %+v", got)
	}
	// The same token in both places is fine.
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/b"), tokenCal); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("bearer and body: %+v", got)
	}
	// The auth scheme is case-insensitive (RFC 9110).
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, hrefsPing(sysCal, "", "/p/c")),
		header: map[string]string{"Authorization": "bearer " + tokenCal}})
	if res.status != http.StatusAccepted {
		t.Fatalf("lower-case scheme: %d %s", res.status, res.body)
	}
	// A token is per system.
	res = h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, hrefsPing(sysOther, "", "/p/c")), bearer: tokenCal})
	if res.status != http.StatusUnauthorized {
		t.Fatalf("cal's token for system other: %d %s", res.status, res.body)
	}
	if p := h.principals(t, sysCal); !reflect.DeepEqual(p, []string{"/p/a", "/p/b", "/p/c"}) {
		t.Fatalf("principals %q", p)
	}
	if p := h.principals(t, sysOther); len(p) != 0 {
		t.Fatalf("other's principals %q", p)
	}
}

func TestPingDuplicateHrefsCountOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred", "/p/jim", "/p/fred", "/p/%7efred", "/p/%7Efred", "/p/~fred", "/p/fred"), "")
	// /p/fred, /p/jim and /p/~fred.
	if want := (accepted{Queued: 3, NewJobs: 3}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if p := h.principals(t, sysCal); !reflect.DeepEqual(p, []string{"/p/fred", "/p/jim", "/p/~fred"}) {
		t.Fatalf("principals %q", p)
	}
	var gen int
	if err := testdb.QueryRow(h.db, `SELECT dirty_gen FROM principal_state WHERE system = 'cal' AND principal = '/p/fred'`).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	if gen != 1 {
		t.Fatalf("fred named three times in one ping: dirty_gen %d, want 1", gen)
	}
}

func TestPingCoalescesIntoWaitingJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("first: %+v", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred"), ""); got != (accepted{Queued: 1, NewJobs: 0, Coalesced: 1}) {
		t.Fatalf("second: %+v, want it to join fred's waiting job", got)
	}
	if got := h.ping(t, map[string]any{"system": sysCal, "token": tokenCal, "href": "/p/fred", "resourceName": "x.xml"}, ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("third (single shape): %+v", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred", "/p/jim"), ""); got != (accepted{Queued: 2, NewJobs: 1, Coalesced: 1}) {
		t.Fatalf("fred and jim: %+v", got)
	}
	// The same href on another system is another principal.
	if got := h.ping(t, hrefsPing(sysOther, tokenOther, "/p/fred"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("other system: %+v", got)
	}
	for _, k := range [][2]string{{sysCal, "/p/fred"}, {sysCal, "/p/jim"}, {sysOther, "/p/fred"}} {
		if n := h.jobsFor(t, k[0], k[1]); n != 1 {
			t.Errorf("%s %s: %d jobs, want exactly 1", k[0], k[1], n)
		}
	}
	if q := h.queued(t); q.jobs != 3 || q.principals != 3 {
		t.Errorf("queued %+v, want 3 jobs for 3 principals", q)
	}
	var gen int
	if err := testdb.QueryRow(h.db, `SELECT dirty_gen FROM principal_state WHERE system = 'cal' AND principal = '/p/fred'`).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	if gen != 4 {
		t.Errorf("fred pinged 4 times: dirty_gen %d, want 4", gen)
	}
	m := h.metrics(t)
	if m["notifyd_pings_accepted_total"] != 5 || m["notifyd_principals_queued_total"] != 6 || m["notifyd_principals_coalesced_total"] != 3 {
		t.Errorf("metrics accepted %v queued %v coalesced %v, want 5, 6, 3", m["notifyd_pings_accepted_total"],
			m["notifyd_principals_queued_total"], m["notifyd_principals_coalesced_total"])
	}
}

// Concurrent pings for one principal make one job: the others join it.
func TestPingConcurrentPingsMakeOneJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 24
	results := make([]accepted, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred", fmt.Sprintf("/p/u%d", i%3)), "")
		}()
	}
	wg.Wait()
	var sum accepted
	for _, r := range results {
		sum.Queued += r.Queued
		sum.NewJobs += r.NewJobs
		sum.Coalesced += r.Coalesced
	}
	if want := (accepted{Queued: 2 * n, NewJobs: 4, Coalesced: 2*n - 4}); sum != want {
		t.Fatalf("sum of answers %+v, want %+v", sum, want)
	}
	for _, p := range []string{"/p/fred", "/p/u0", "/p/u1", "/p/u2"} {
		if got := h.jobsFor(t, sysCal, p); got != 1 {
			t.Errorf("%s: %d jobs, want 1", p, got)
		}
	}
}

// Spellings of one path are one principal: unreserved characters are
// decoded and hex digits upper-cased before the principal is recorded.
func TestPingPercentEncodingNormalised(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/%7efred"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("%%7efred: %+v", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/~fred"), ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("~fred after %%7efred: %+v, want the same principal", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/%70/%7Efr%65d"), ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("/%%70/%%7Efr%%65d: %+v, want the same principal", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/caf%c3%a9"), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("caf%%c3%%a9: %+v", got)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/p/caf%C3%A9"), ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("caf%%C3%%A9: %+v, want the same principal", got)
	}
	if p, want := h.principals(t, sysCal), []string{"/p/caf%C3%A9", "/p/~fred"}; !reflect.DeepEqual(p, want) {
		t.Fatalf("principals %q, want %q", p, want)
	}
	if n := h.jobsFor(t, sysCal, "/p/~fred"); n != 1 {
		t.Fatalf("~fred: %d jobs", n)
	}
}

func TestPingPrincipalPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if got := h.ping(t, hrefsPing(sysPrefixed, tokenPrefixed, prefix+"fred", prefix+"jim"), ""); got != (accepted{Queued: 2, NewJobs: 2}) {
		t.Fatalf("under the prefix: %+v", got)
	}
	// The prefix is checked on the normalised href.
	if got := h.ping(t, hrefsPing(sysPrefixed, tokenPrefixed, "/principals/%75sers/fred"), ""); got != (accepted{Queued: 1, Coalesced: 1}) {
		t.Fatalf("encoded spelling under the prefix: %+v", got)
	}
	before := h.queued(t)
	for _, href := range []string{"/principals/resources/room", "/principals/users", "/principals/usersX/fred", "/other/principals/users/fred", "/Principals/users/fred"} {
		res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, hrefsPing(sysPrefixed, tokenPrefixed, prefix+"ok", href))})
		if res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", href, res.status)
			continue
		}
		p := res.problem(t)
		if p.Type != typeValidation || !p.hasField("/hrefs/1") || !strings.Contains(p.Errors[0].Detail, prefix) {
			t.Errorf("%s: problem %s", href, res.body)
		}
	}
	if after := h.queued(t); after != before {
		t.Errorf("refused pings queued something: %+v -> %+v", before, after)
	}
	// Systems without a prefix take any path.
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, "/principals/resources/room"), ""); got.Queued != 1 {
		t.Fatalf("cal: %+v", got)
	}
}

func TestPingLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hrefs := make([]string, 1000)
	for i := range hrefs {
		hrefs[i] = fmt.Sprintf("/principals/users/u%04d", i)
	}
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, hrefs...), ""); got != (accepted{Queued: 1000, NewJobs: 1000}) {
		t.Fatalf("1000 hrefs: %+v", got)
	}
	if q := h.queued(t); q.jobs != 1000 || q.principals != 1000 {
		t.Fatalf("queued %+v", q)
	}
	long := "/p/" + strings.Repeat("a", 1021) // exactly 1024 bytes
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, long), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("1024-byte href: %+v", got)
	}
	// Every character RFC 3986 allows in a path, and encoded non-ASCII.
	odd := "/p/a-b_c.d~e!$&'()*+,;=:@/%E2%82%AC/..x/x../.../%20"
	if got := h.ping(t, hrefsPing(sysCal, tokenCal, odd), ""); got != (accepted{Queued: 1, NewJobs: 1}) {
		t.Fatalf("%s: %+v", odd, got)
	}
}

// A ping that cannot be recorded is a 503 with Retry-After, and nothing is
// queued.
func TestPingUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ping(t, hrefsPing(sysCal, tokenCal, "/p/fred"), "")
	before := h.queued(t)
	h.intake.Close() // as during shutdown
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, hrefsPing(sysCal, tokenCal, "/p/jim"))})
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", res.status, res.body)
	}
	if p := res.problem(t); p.Type != typeUnavailable {
		t.Errorf("type %q", p.Type)
	}
	if ra := res.header.Get("Retry-After"); ra == "" || strings.Trim(ra, "0123456789") != "" {
		t.Errorf("Retry-After %q, want seconds", ra)
	}
	if after := h.queued(t); after != before {
		t.Errorf("queued %+v -> %+v", before, after)
	}
	if m := h.metrics(t); m[rejected("unavailable")] != 1 || m["notifyd_pings_accepted_total"] != 1 {
		t.Errorf("rejected{unavailable} %v, accepted %v", m[rejected("unavailable")], m["notifyd_pings_accepted_total"])
	}
}

// The reasons operators alert on move when pings are refused for them.
func TestPingRejectedMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	send := func(body any, bearer string) {
		t.Helper()
		res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, body), bearer: bearer})
		if res.status == http.StatusAccepted {
			t.Fatalf("accepted %v", body)
		}
	}
	send(hrefsPing("nosuch", tokenCal, "/p/a"), "")
	send(hrefsPing("nosuch", "", "/p/a"), "x")
	send(hrefsPing(sysCal, "wrong", "/p/a"), "")
	send(hrefsPing(sysCal, "", "/p/a"), "")
	send(hrefsPing(sysCal, tokenCal, "/p/../a"), "")
	send(`{"system":`, "")
	m := h.metrics(t)
	for reason, want := range map[string]float64{
		"unknown_system": 2, "bad_token": 1, "missing_token": 1, "bad_href": 1, "malformed": 1,
		"invalid": 0, "too_large": 0, "media_type": 0, "unavailable": 0,
	} {
		if got, ok := m[rejected(reason)]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", rejected(reason), got, ok, want)
		}
	}
	if m["notifyd_pings_accepted_total"] != 0 {
		t.Errorf("accepted %v", m["notifyd_pings_accepted_total"])
	}
}
