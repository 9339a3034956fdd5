package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/internal/testdb"
)

type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{method: http.MethodGet, path: "/healthz"})
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	var got health
	res.decode(t, &got)
	if got.Status != "ok" {
		t.Fatalf("%+v", got)
	}
	// Liveness does not depend on the database.
	h.db.Close()
	if res := h.do(t, request{method: http.MethodGet, path: "/healthz"}); res.status != http.StatusOK {
		t.Fatalf("with the database closed: %d", res.status)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{method: http.MethodGet, path: "/readyz"})
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got health
	res.decode(t, &got)
	if want := (health{Status: "ready", Checks: map[string]string{"database": "ok", "job_queue": "ok"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}

	h.db.Close()
	res = h.do(t, request{method: http.MethodGet, path: "/readyz"})
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("with the database closed: %d %s", res.status, res.body)
	}
	p := res.problem(t)
	if p.Type != typeUnavailable || !p.hasField("database") || !p.hasField("job_queue") {
		t.Errorf("problem %s, want unavailable naming database and job_queue", res.body)
	}
	if res.header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
}

// Readiness also needs every migration applied.
func TestReadyzPendingMigrations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if _, err := testdb.Exec(h.db, `DELETE FROM goose_db_version WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	res := h.do(t, request{method: http.MethodGet, path: "/readyz"})
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if p := res.problem(t); !p.hasField("database") || p.hasField("job_queue") {
		t.Errorf("problem %s, want only the database check failing", res.body)
	}
}

func TestOpenAPIDocumentServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{method: http.MethodGet, path: "/openapi.yaml"})
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(res.body, notifyd.OpenAPISpec) {
		t.Errorf("served document differs from openapi.yaml")
	}
	served, err := openapi3.NewLoader().LoadFromData(res.body)
	if err != nil {
		t.Fatalf("served document does not parse: %v", err)
	}
	if err := served.Validate(context.Background()); err != nil {
		t.Fatalf("served document is not valid OpenAPI: %v", err)
	}
	want, err := openapi3.NewLoader().LoadFromData(notifyd.OpenAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(served)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Errorf("served document is not the same OpenAPI document")
	}
	if served.Info.Title != "notifyd" || served.Paths.Find("/v1/notifications") == nil {
		t.Errorf("served document: title %q", served.Info.Title)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ping(t, hrefsPing(sysCal, tokenCal, "/p/a", "/p/b"), "")
	h.ping(t, hrefsPing(sysCal, tokenCal, "/p/a"), "")
	h.do(t, request{method: http.MethodGet, path: "/nowhere"})
	res := h.do(t, request{method: http.MethodGet, path: "/metrics"})
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	text := string(res.body)
	for _, name := range []string{
		"# TYPE notifyd_pings_accepted_total counter",
		"# TYPE notifyd_pings_rejected_total counter",
		"# TYPE notifyd_backlog gauge",
		"# TYPE notifyd_http_request_duration_seconds histogram",
		"# TYPE notifyd_principals_queued_total counter",
		"# TYPE notifyd_principals_coalesced_total counter",
	} {
		if !strings.Contains(text, name) {
			t.Errorf("metrics lack %q", name)
		}
	}
	// The job queue's own depth is not reported: the backlog, read from
	// notifyd's tables, says what is outstanding.
	if strings.Contains(text, "notifyd_queue_depth") {
		t.Error("metrics still report notifyd_queue_depth")
	}
	m := h.metrics(t)
	for series, want := range map[string]float64{
		"notifyd_pings_accepted_total":       2,
		"notifyd_principals_queued_total":    3,
		"notifyd_principals_coalesced_total": 1,
		// Two principals to sync (the second ping of /p/a joined its
		// sync); nothing synced yet, so nothing else to do.
		`notifyd_backlog{work="syncs"}`:      2,
		`notifyd_backlog{work="deliveries"}`: 0,
		`notifyd_backlog{work="policies"}`:   0,
		`notifyd_http_request_duration_seconds_count{code="202",method="POST",route="/v1/notifications"}`: 2,
		`notifyd_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"}`:          1,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}

// Errors outside the contract's operations are problems too.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct {
		method, path string
		status       int
		typ          string
	}{
		{http.MethodGet, "/", 404, typeNotFound},
		{http.MethodGet, "/v2/notifications", 404, typeNotFound},
		{http.MethodGet, "/v1/subscriptions/a/b", 404, typeNotFound},
		{http.MethodGet, "/v1/notifications", 405, typeNoMethod},
		{http.MethodDelete, "/healthz", 405, typeNoMethod},
		{http.MethodPut, "/v1/subscriptions", 405, typeNoMethod},
		{http.MethodPost, "/metrics", 405, typeNoMethod},
	} {
		res := h.do(t, request{method: tt.method, path: tt.path})
		if res.status != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, res.status, tt.status)
			continue
		}
		if p := res.problem(t); p.Type != tt.typ || p.Instance != tt.path {
			t.Errorf("%s %s: %s", tt.method, tt.path, res.body)
		}
		if tt.status == 405 && res.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{method: http.MethodGet, path: "/healthz", header: map[string]string{"X-Request-Id": "caller-id_1.2:3"}})
	if got := res.header.Get("X-Request-Id"); got != "caller-id_1.2:3" {
		t.Errorf("sane caller id not kept: %q", got)
	}
	res = h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: strings.NewReader("{"),
		header: map[string]string{"X-Request-Id": "evil\u00e9 id<script>"}})
	id := res.header.Get("X-Request-Id")
	if id == "" || strings.ContainsAny(id, " <>") {
		t.Errorf("insane caller id not replaced: %q", id)
	}
	if p := res.problem(t); p.RequestID != id {
		t.Errorf("problem request_id %q, header %q", p.RequestID, id)
	}
	a := h.do(t, request{method: http.MethodGet, path: "/healthz"}).header.Get("X-Request-Id")
	b := h.do(t, request{method: http.MethodGet, path: "/healthz"}).header.Get("X-Request-Id")
	if a == "" || a == b {
		t.Errorf("request ids %q and %q, want distinct", a, b)
	}
}

// TestContractOperationsCovered checks that requiredCoverage, which TestMain
// holds the suite to, names every operation of openapi.yaml and every
// status it documents (but the 503s of the subscription API, which need a
// failing database under a live request), and nothing the document lacks.
func TestContractOperationsCovered(t *testing.T) {
	t.Parallel()
	doc, _ := spec()
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			seen[key] = true
			required, ok := requiredCoverage[key]
			if !ok {
				t.Errorf("%s (%s) is in openapi.yaml but the suite is not held to exercise it", key, op.OperationID)
				continue
			}
			var documented []int
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s: response %q is not a status code", key, code)
					continue
				}
				documented = append(documented, n)
				if !contains(required, n) && !(n == http.StatusServiceUnavailable && strings.HasPrefix(path, "/v1/subscriptions")) {
					t.Errorf("%s: documented status %d is not required of the suite", key, n)
				}
			}
			for _, n := range required {
				if !contains(documented, n) {
					t.Errorf("%s: required status %d is not documented", key, n)
				}
			}
		}
	}
	var extra []string
	for key := range requiredCoverage {
		if !seen[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("requiredCoverage names operations openapi.yaml lacks: %q", extra)
	}
	if len(seen) != 32 {
		t.Errorf("openapi.yaml has %d operations; update this suite", len(seen))
	}
}

func contains(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// TestContractCheckerCatchesViolations makes sure the response checker
// that every test relies on does fail on what it must.
func TestContractCheckerCatchesViolations(t *testing.T) {
	t.Parallel()
	_, router := spec()
	mk := func(method, path string) *http.Request {
		r, _ := http.NewRequest(method, "http://notifyd.test"+path, nil)
		return r
	}
	resp := func(status int, ct, body string, hdr ...string) (*http.Response, []byte) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Set(hdr[i], hdr[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}, []byte(body)
	}
	if _, _, err := router.FindRoute(mk(http.MethodGet, "/v1/subscriptions/abc")); err != nil {
		t.Fatalf("router: %v", err)
	}
	okProblem := `{"type":"urn:notifyd:problem:not-found","title":"Not found","status":404,"request_id":"r1"}`
	for _, tt := range []struct {
		name   string
		req    *http.Request
		status int
		ct     string
		body   string
		hdr    []string
		bad    bool
	}{
		{"valid 202", mk("POST", "/v1/notifications"), 202, "application/json", `{"queued":1,"new_jobs":1,"coalesced":0}`, nil, false},
		{"202 with an extra member", mk("POST", "/v1/notifications"), 202, "application/json", `{"queued":1,"new_jobs":1,"coalesced":0,"x":1}`, nil, true},
		{"202 missing a member", mk("POST", "/v1/notifications"), 202, "application/json", `{"queued":1}`, nil, true},
		{"undocumented 200", mk("POST", "/v1/notifications"), 200, "application/json", `{"queued":1,"new_jobs":1,"coalesced":0}`, nil, true},
		{"undocumented 500", mk("GET", "/v1/subscriptions"), 500, "application/problem+json", `{"type":"urn:notifyd:problem:internal","title":"x","status":500,"request_id":"r1"}`, []string{"X-Request-Id", "r1"}, true},
		{"valid 404", mk("GET", "/v1/subscriptions/abc"), 404, "application/problem+json", okProblem, []string{"X-Request-Id", "r1"}, false},
		{"problem as application/json", mk("GET", "/v1/subscriptions/abc"), 404, "application/json", okProblem, []string{"X-Request-Id", "r1"}, true},
		{"problem status differs", mk("GET", "/v1/subscriptions/abc"), 404, "application/problem+json", strings.Replace(okProblem, "404", "400", 1), []string{"X-Request-Id", "r1"}, true},
		{"401 without challenge", mk("GET", "/v1/subscriptions/abc"), 401, "application/problem+json", strings.Replace(okProblem, "404", "401", 1), []string{"X-Request-Id", "r1"}, true},
		{"unknown path, not a problem", mk("GET", "/nowhere"), 404, "text/plain", "404 page not found", nil, true},
		{"unknown path, 200", mk("GET", "/nowhere"), 200, "text/plain", "hello", nil, true},
		{"health with a wrong status value", mk("GET", "/healthz"), 200, "application/json", `{"status":"fine"}`, nil, true},
		{"subscription with a bad created_at type", mk("GET", "/v1/subscriptions/abc"), 200, "application/json",
			`{"id":"a","system":"s","principal":"/p","enabled":true,"types":[],"locale":"en","time_zone":"UTC","methods":[],"version":1,"created_at":5,"updated_at":"2026-01-01T00:00:00Z"}`, nil, true},
	} {
		res, body := resp(tt.status, tt.ct, tt.body, tt.hdr...)
		_, msg := checkResponse(tt.req, res, body)
		if (msg != "") != tt.bad {
			t.Errorf("%s: checker said %q, want a violation: %v", tt.name, msg, tt.bad)
		}
	}
}
