package api_test

// The test harness: a real notifyd API (api.New over a migrated SQLite file
// in a temp dir, the River job queue, the intake and the subscriptions
// service, wired as cmd/notifyd/serve.go wires them) behind an
// httptest.Server, with every response checked against openapi.yaml.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"

	"database/sql"
	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// The configured calendar systems and keys of every harness.
const (
	sysCal        = "cal"
	tokenCal      = "cal-token-0123456789"
	tokenCal2     = "cal-token-second-key"
	sysOther      = "other"
	tokenOther    = "other-token-0123456789"
	sysPrefixed   = "prefixed"
	tokenPrefixed = "prefixed-token-0123456789"
	prefix        = "/principals/users/"
	apiKey        = "operator-key-0123456789"
	apiKey2       = "operator-key-second-one"
	maxBody       = 1 << 20 // the configuration's default http.max_body_bytes
)

// harness is one notifyd API on its own database.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	db     *store.DB
	queue  *engine.Queue
	intake *engine.Intake
	// publisher records published events (POST /v1/events).
	publisher *engine.Publisher
	// unsub signs the tokens of unsubscribe links, with the server's key
	// (unsubKey) and clock, which tests move forward.
	unsub    *subscriptions.Unsubscriber
	unsubKey []byte
	clock    *testClock
	// prefLinks signs preference links with the server's key and clock;
	// prefStore fails when told to (prefpage_test.go).
	prefLinks *subscriptions.PreferenceLinker
	prefStore *flakyPrefStore
	// keys are the server's API keys: apiKey and apiKey2 (admin, as
	// api_keys) and roleKeys.
	keys *api.Keyring
}

// newHarness builds the API as serve.go does, on a fresh database.
func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := testdb.Open(t)
	q, err := engine.NewQueue(db, log)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		t.Fatal(err)
	}
	if _, err := q.Migrate(ctx); err != nil {
		db.Close()
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics := api.NewMetrics(reg)
	api.RegisterBacklog(reg, db.Backlog, log)
	api.RegisterDeadLetters(reg, db.DeadLetterCounts, log)
	db.ObserveWrites(metrics.ObserveWrite)
	intake := engine.NewIntake(db, q)
	publisher := engine.NewPublisher(db, q)
	systems := []api.System{
		{Name: sysCal, Tokens: []string{tokenCal, tokenCal2}},
		{Name: sysOther, Tokens: []string{tokenOther}},
		{Name: sysPrefixed, Tokens: []string{tokenPrefixed}, PrincipalPrefix: prefix},
	}
	known := func(name string) bool {
		for _, s := range systems {
			if s.Name == name {
				return true
			}
		}
		return false
	}
	key := make([]byte, 32)
	rand.Read(key)
	clock := newTestClock()
	// As serve.go: version 1 links work for one lifetime from the start.
	unsub := subscriptions.NewUnsubscriber(key, subscriptions.WithClock(clock.now),
		subscriptions.AcceptV1LinksUntil(clock.now().Add(subscriptions.LinkLifetime)))
	prefKey := make([]byte, 32)
	rand.Read(prefKey)
	prefLinks := subscriptions.NewPreferenceLinker(prefKey, 0, clock.now)
	prefStore := &flakyPrefStore{PreferenceStore: db}
	keys, err := api.NewKeyring(append(api.LegacyKeys([]string{apiKey, apiKey2}), roleKeys...))
	if err != nil {
		t.Fatal(err)
	}
	handler, err := api.New(api.Options{
		Keys:           keys,
		Audit:          db,
		PreferencePage: &api.PreferencePage{Links: prefLinks, Store: prefStore, BaseURL: "https://notifyd.example.org", Now: clock.now},
		Systems:        systems,
		MaxBodyBytes:   maxBody,
		Intake:         intake,
		Publisher:      publisher,
		Subscriptions:  subscriptions.NewService(db, known),
		Deliveries:     db,
		DeadLetterLog:  db,
		Suppressions:   db,
		DeadLetters:    fakeRetrier{db},
		Reminders:      db,
		Unsubscriber:   unsub,
		// Twilio signs its callbacks for the public URL, not the test
		// server's (see callbacks_test.go).
		TwilioCallbacks: api.TwilioCallbacks{AuthToken: twilioToken, FallbackAuthTokens: []string{twilioFallbackToken},
			URL: twilioCallbackURL, Statuses: db},
		Ready: []api.ReadyCheck{
			{Name: "database", Check: db.Ready},
			{Name: "job_queue", Check: q.Ready},
		},
		Gatherer: reg,
		Metrics:  metrics,
		Logger:   log,
	})
	if err != nil {
		intake.Close()
		db.Close()
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, queue: q, intake: intake, publisher: publisher, unsub: unsub, unsubKey: key, clock: clock,
		prefLinks: prefLinks, prefStore: prefStore, keys: keys}
	h.srv = httptest.NewServer(&contractChecker{t: t, next: handler})
	t.Cleanup(func() {
		h.srv.Close()
		intake.Close()
		publisher.Close()
		db.Close()
	})
	return h
}

// contractChecker serves each request with next and checks the response
// against openapi.yaml before the client sees it; a mismatch fails the
// test that owns the harness.
type contractChecker struct {
	t    testing.TB
	next http.Handler
	// silent leaves the report to whoever reads the X-Contract-Violation
	// header (a fuzz target: its *testing.F must not fail from a handler).
	silent bool
}

func (cc *contractChecker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	cc.next.ServeHTTP(rec, r)
	res := rec.Result()
	body := rec.Body.Bytes()
	op, msg := checkResponse(r, res, body)
	if op != "" {
		coverage.Lock()
		coverage.seen[op]++
		coverage.Unlock()
	}
	if msg != "" {
		if !cc.silent {
			cc.t.Errorf("contract violation: %s %s -> %d: %s\nbody: %.2000s", r.Method, r.URL.RequestURI(), res.StatusCode, msg, body)
		}
		res.Header.Set("X-Contract-Violation", strings.ReplaceAll(msg, "\n", " "))
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	w.Write(body)
}

// spec is openapi.yaml as a test sees it, with a router to find operations.
var spec = sync.OnceValues(func() (*openapi3.T, routers.Router) {
	doc, err := openapi3.NewLoader().LoadFromData(notifyd.OpenAPISpec)
	if err != nil {
		panic(err)
	}
	doc.Servers = nil // match any host: the test server's is random
	// GET /openapi.yaml answers the document as "application/yaml" with
	// schema {type: string}: the YAML text. kin-openapi would parse the
	// YAML into an object and find it is no string; take it as text, as
	// the contract means. (No request body of the API is YAML.)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	// The unsubscribe pages are text/html with schema {type: string}.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	// The preference page's stylesheet.
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		panic(err)
	}
	return doc, router
})

// coverage counts, per "METHOD /path STATUS" of openapi.yaml, the
// responses checked against the contract.
var coverage = struct {
	sync.Mutex
	seen map[string]int
}{seen: map[string]int{}}

func opKey(method, path string, status int) string {
	return method + " " + path + " " + strconv.Itoa(status)
}

// checkResponse validates a response against the operation of openapi.yaml
// that r is for (IncludeResponseStatus: undocumented statuses fail) and
// checks what every notifyd error must be: a problem+json whose status is
// the HTTP status and whose type is a notifyd URN. It returns the response's
// opKey ("" if r is for no operation of the contract) and what is wrong
// ("" if all is well).
func checkResponse(r *http.Request, res *http.Response, body []byte) (op, violation string) {
	var problems []string
	_, router := spec()
	route, params, err := router.FindRoute(r)
	// The one kind of error that is not a problem: an operation that
	// documents the status as an HTML page for people (the unsubscribe
	// page's 404). openapi3filter checks the media type.
	if res.StatusCode >= 400 && !(err == nil && htmlError(route, res.StatusCode)) {
		if msg := checkProblem(res, body); msg != "" {
			problems = append(problems, msg)
		}
	}
	for _, v := range params {
		if v == "" {
			// The router matches "/v1/subscriptions" to
			// "/v1/subscriptions/{id}" with an empty id; that is not
			// the operation.
			err = fmt.Errorf("empty path parameter matching %s %s", route.Method, route.Path)
		}
	}
	if err != nil {
		// Not an operation of the contract (unknown path or method): only
		// the problem checks above apply, and it must be an error.
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			problems = append(problems, fmt.Sprintf("no operation in openapi.yaml (%v) but status %d", err, res.StatusCode))
		}
		return "", strings.Join(problems, "; ")
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		problems = append(problems, err.Error())
	}
	return opKey(route.Method, route.Path, res.StatusCode), strings.Join(problems, "; ")
}

// htmlError reports whether route documents status as text/html only.
func htmlError(route *routers.Route, status int) bool {
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return false
	}
	c := ref.Value.Content
	return c.Get("text/html") != nil && c.Get("application/problem+json") == nil
}

func checkProblem(res *http.Response, body []byte) string {
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/problem+json" {
		return fmt.Sprintf("error with Content-Type %q, want application/problem+json", res.Header.Get("Content-Type"))
	}
	var p problem
	if err := json.Unmarshal(body, &p); err != nil {
		return "problem body is not JSON: " + err.Error()
	}
	var msgs []string
	if p.Status != res.StatusCode {
		msgs = append(msgs, fmt.Sprintf("problem status %d, HTTP status %d", p.Status, res.StatusCode))
	}
	if !strings.HasPrefix(p.Type, "urn:notifyd:problem:") || p.Title == "" {
		msgs = append(msgs, fmt.Sprintf("problem type %q / title %q", p.Type, p.Title))
	}
	if p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-Id") {
		msgs = append(msgs, fmt.Sprintf("problem request_id %q, X-Request-Id %q", p.RequestID, res.Header.Get("X-Request-Id")))
	}
	if res.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		msgs = append(msgs, "401 without a Bearer WWW-Authenticate challenge")
	}
	if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
		msgs = append(msgs, "503 without Retry-After")
	}
	return strings.Join(msgs, "; ")
}

// problem is an RFC 9457 problem as notifyd writes it.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
	ErrorsOmitted int `json:"errors_omitted"`
}

func (p problem) fields() []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

func (p problem) hasField(f string) bool {
	for _, e := range p.Errors {
		if e.Field == f {
			return true
		}
	}
	return false
}

// Problem types, spelt out rather than taken from package api so that a
// change to a stable URN fails the tests.
const (
	typeMalformed    = "urn:notifyd:problem:malformed-json"
	typeValidation   = "urn:notifyd:problem:validation-failed"
	typeTooLarge     = "urn:notifyd:problem:body-too-large"
	typeMediaType    = "urn:notifyd:problem:unsupported-media-type"
	typeUnauthorized = "urn:notifyd:problem:unauthorized"
	typeNotFound     = "urn:notifyd:problem:not-found"
	typeNoMethod     = "urn:notifyd:problem:method-not-allowed"
	typePrecondition = "urn:notifyd:problem:precondition-failed"
	typeUnavailable  = "urn:notifyd:problem:unavailable"
)

// response is a finished exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// problem decodes the body as a problem, failing t unless it is one.
func (r response) problem(t *testing.T) problem {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", r.header.Get("Content-Type"), r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.body)
	}
	return p
}

// decode decodes a JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %s", r.header.Get("Content-Type"), r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.body)
	}
}

// request describes one request of a test.
type request struct {
	method, path string
	body         io.Reader // nil for none
	// contentType defaults to application/json when there is a body.
	contentType string
	// bearer, if set, is sent as "Authorization: Bearer <bearer>".
	bearer string
	header map[string]string
	// contentLength -1 sends the body chunked, without Content-Length.
	contentLength int64
}

// do sends req to the harness's server.
func (h *harness) do(t *testing.T, req request) response {
	t.Helper()
	r, err := http.NewRequest(req.method, h.srv.URL+req.path, req.body)
	if err != nil {
		t.Fatal(err)
	}
	if req.body != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
		if req.contentLength != 0 {
			r.ContentLength = req.contentLength
		}
	}
	if req.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.method, req.path, err)
	}
	if res.Header.Get("X-Contract-Violation") != "" {
		t.Errorf("%s %s: the response breaks openapi.yaml (see above)", req.method, req.path)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// jsonBody marshals v, or takes a string or []byte as the raw body.
func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	switch b := v.(type) {
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// queued counts the rows an accepted ping writes: sync_principal jobs in
// river_job, and principal_state rows and their total dirty generations
// (which a ping for an already dirty principal advances).
type queued struct{ jobs, principals, dirtyGens int }

func (h *harness) queued(t *testing.T) queued {
	t.Helper()
	var q queued
	if err := testdb.QueryRow(h.db, `SELECT count(*) FROM river_job`).Scan(&q.jobs); err != nil {
		t.Fatal(err)
	}
	if err := testdb.QueryRow(h.db, `SELECT count(*), coalesce(sum(dirty_gen), 0) FROM principal_state`).Scan(&q.principals, &q.dirtyGens); err != nil {
		t.Fatal(err)
	}
	return q
}

// jobsFor counts the sync_principal jobs of one principal.
func (h *harness) jobsFor(t *testing.T, system, principal string) int {
	t.Helper()
	return testdb.SyncJobs(t, h.db, system, principal)
}

// principals lists the principal_state rows of system, sorted.
func (h *harness) principals(t *testing.T, system string) []string {
	t.Helper()
	var out []string
	err := testdb.Query(h.db, `SELECT principal FROM principal_state WHERE system = $1 ORDER BY principal`, []any{system},
		func(rows *sql.Rows) error {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// metrics scrapes /metrics into "name{labels}" -> value.
func (h *harness) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	res := h.do(t, request{method: http.MethodGet, path: "/metrics"})
	if res.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", res.status, res.body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// rejected is the series of notifyd_pings_rejected_total for reason.
func rejected(reason string) string {
	return `notifyd_pings_rejected_total{reason="` + reason + `"}`
}

// requiredCoverage lists, per operation of openapi.yaml, the statuses the
// suite must have produced and checked against the contract. Statuses left
// out are ones the suite cannot produce without breaking the database under
// a live request (503 of the subscription API: store errors that a retry
// may cure).
var requiredCoverage = map[string][]int{
	"POST /v1/notifications":                              {202, 400, 401, 413, 415, 503},
	"POST /v1/events":                                     {200, 202, 400, 401, 413, 415, 422, 503},
	"POST /v1/subscriptions":                              {201, 400, 401, 403, 404, 413, 415},
	"GET /v1/subscriptions":                               {200, 400, 401},
	"GET /v1/subscriptions/{id}":                          {200, 401, 404},
	"PUT /v1/subscriptions/{id}":                          {200, 400, 401, 403, 404, 412, 413, 415},
	"PATCH /v1/subscriptions/{id}":                        {200, 400, 401, 403, 404, 412, 413, 415},
	"DELETE /v1/subscriptions/{id}":                       {204, 401, 403, 404, 412},
	"GET /v1/deliveries":                                  {200, 400, 401, 503},
	"GET /v1/dead-letters":                                {200, 400, 401, 503},
	"POST /v1/dead-letters/{id}/retry":                    {202, 401, 403, 404, 409, 503},
	"DELETE /v1/dead-letters/{id}":                        {204, 401, 403, 404, 409, 503},
	"GET /v1/dead-notifications":                          {200, 400, 401, 503},
	"POST /v1/dead-notifications/{id}/retry":              {202, 401, 403, 404, 409, 503},
	"DELETE /v1/dead-notifications/{id}":                  {204, 401, 403, 404, 409, 503},
	"GET /v1/reminders":                                   {200, 400, 401, 503},
	"GET /v1/unsubscribe/{token}":                         {200, 404, 410},
	"POST /v1/unsubscribe/{token}":                        {200, 404, 410, 503},
	"POST /v1/callbacks/twilio":                           {200, 400, 403, 413, 415, 503},
	"GET /healthz":                                        {200},
	"GET /readyz":                                         {200, 503},
	"GET /metrics":                                        {200},
	"GET /openapi.yaml":                                   {200},
	"POST /v1/subscriptions/{id}/preference-links":        {201, 401, 403, 404},
	"POST /v1/subscriptions/{id}/preference-links/revoke": {200, 401, 403, 404},
	"GET /preferences/{token}":                            {200, 403, 404, 410, 503},
	"POST /preferences/{token}":                           {303, 400, 403, 404, 409, 410, 413, 415, 503},
	"GET /assets/preferences.css":                         {200},
	"GET /v1/audit":                                       {200, 400, 401, 503},
	"GET /v1/suppressions":                                {200, 400, 401, 403, 503},
	"POST /v1/suppressions":                               {200, 201, 400, 401, 403, 413, 415, 503},
	"DELETE /v1/suppressions/{channel}/{address}":         {204, 401, 403, 404, 503},
}

// TestMain runs the suite and then, when the whole suite ran and passed,
// fails it unless every operation of openapi.yaml was called with each of
// its required statuses and the responses were checked.
func TestMain(m *testing.M) {
	flag.Parse()
	code := peertest.WithPostgres(m.Run)
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if missing := missingCoverage(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: openapi.yaml responses the suite never produced and checked:\n  %s\n",
				strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func missingCoverage() []string {
	coverage.Lock()
	defer coverage.Unlock()
	var missing []string
	for op, statuses := range requiredCoverage {
		method, path, _ := strings.Cut(op, " ")
		for _, s := range statuses {
			if coverage.seen[opKey(method, path, s)] == 0 {
				missing = append(missing, opKey(method, path, s))
			}
		}
	}
	sort.Strings(missing)
	return missing
}
