package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/api"
)

// hostileBody is a body of just under maxBody bytes: head, then item
// repeated (comma-separated), then tail.
func hostileBody(head, item, tail string, numbered bool) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for i := 0; b.Len()+len(item)+len(tail)+16 < maxBody; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if numbered {
			b.WriteString(`"k` + strconv.Itoa(i) + `":`)
		}
		b.WriteString(item)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// maxProblemBytes bounds every problem body, whatever the request.
const maxProblemBytes = 16 << 10

// A body built to make the validator work (a 1 MiB array of wrong items,
// 60,000 unknown members) gets a small answer for little work, with or
// without credentials: before, it got a 20 MB answer after seconds of
// CPU and hundreds of MB of memory.
//
// It measures the process's allocations, so it does not run in parallel.
func TestHostileBodiesCostLittle(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, path, bearer string
		body               []byte
		status             int
		field              string // must be among errors[].field ("-" for none)
	}{
		{"ping, unknown system, 349,000 bad hrefs", "/v1/notifications", "",
			hostileBody(`{"system":"nosuch","hrefs":[`, "1", "]}", false), 401, "-"},
		{"ping, unknown system, 60,000 unknown members", "/v1/notifications", "",
			hostileBody(`{"system":"nosuch",`, "1", "}", true), 401, "-"},
		{"ping, no token, bad hrefs", "/v1/notifications", "",
			hostileBody(`{"system":"cal","hrefs":[`, "1", "]}", false), 401, "-"},
		{"ping, valid token, 349,000 bad hrefs", "/v1/notifications", "",
			hostileBody(`{"system":"cal","token":"`+tokenCal+`","hrefs":[`, "1", "]}", false), 400, "/hrefs"},
		{"ping, valid token, 60,000 unknown members", "/v1/notifications", "",
			hostileBody(`{"system":"cal","token":"`+tokenCal+`",`, "1", "}", true), 400, ""},
		{"ping, valid token, deep nesting", "/v1/notifications", "",
			[]byte(`{"system":"cal","token":"` + tokenCal + `","hrefs":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), 400, "/hrefs/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"},
		{"subscription, 60,000 unknown members", "/v1/subscriptions", apiKey,
			hostileBody(`{"system":"cal","principal":"/p/fred",`, "1", "}", true), 400, ""},
		{"subscription, huge methods array", "/v1/subscriptions", apiKey,
			hostileBody(`{"system":"cal","principal":"/p/fred","methods":[`, `{"x":1}`, "]}", false), 400, "/methods"},
		{"subscription, no key", "/v1/subscriptions", "",
			hostileBody(`{"system":"cal","principal":"/p/fred","methods":[`, `{"x":1}`, "]}", false), 401, "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := h.do(t, request{method: http.MethodPost, path: tc.path, bearer: tc.bearer, body: bytes.NewReader(tc.body)})
			runtime.ReadMemStats(&after)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %.500s", res.status, tc.status, res.body)
			}
			if len(res.body) > maxProblemBytes {
				t.Errorf("answer of %d bytes, want at most %d", len(res.body), maxProblemBytes)
			}
			p := res.problem(t)
			if len(p.Errors) > 20 {
				t.Errorf("%d field errors, want at most 20", len(p.Errors))
			}
			if tc.field != "-" && !p.hasField(tc.field) {
				t.Errorf("errors[].field %v, want %q among them", p.fields(), tc.field)
			}
			// Reading the body and answering allocate a few times its
			// size; validating each of its values allocated 700 MB.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 24<<20 {
				t.Errorf("the request allocated %d MB, want under 24 MB", alloc>>20)
			}
		})
	}
}

// Many offending values within the contract's bounds are named up to 20,
// with a count of the rest.
func TestProblemNamesAtMost20Errors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hrefs := make([]string, 1000)
	for i := range hrefs {
		hrefs[i] = "1"
	}
	typed := `{"system":"cal","token":"` + tokenCal + `","hrefs":[` + strings.Join(hrefs, ",") + `]}`
	for i := range hrefs {
		hrefs[i] = `"/p/../admin` + strconv.Itoa(i) + `"`
	}
	dotted := `{"system":"cal","token":"` + tokenCal + `","hrefs":[` + strings.Join(hrefs, ",") + `]}`
	for name, body := range map[string]string{"wrong types": typed, "hostile hrefs": dotted} {
		t.Run(name, func(t *testing.T) {
			res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: strings.NewReader(body)})
			p := res.problem(t)
			if res.status != http.StatusBadRequest || len(p.Errors) != 20 || p.ErrorsOmitted != 980 {
				t.Fatalf("%d, %d errors, %d omitted; want 400, 20, 980: %s", res.status, len(p.Errors), p.ErrorsOmitted, res.body)
			}
			if p.Errors[0].Field != "/hrefs/0" || p.Errors[19].Field != "/hrefs/19" {
				t.Errorf("errors name %s … %s, want /hrefs/0 … /hrefs/19", p.Errors[0].Field, p.Errors[19].Field)
			}
		})
	}
	// A field name of 100 KB is named, shortened.
	long := strings.Repeat("x", 100<<10)
	res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications",
		body: strings.NewReader(`{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"],"` + long + `":1}`)})
	if p := res.problem(t); res.status != 400 || len(res.body) > 2048 || len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0].Field, "/xxx") {
		t.Errorf("%d %.300s", res.status, res.body)
	}
}

// Go accepts any token as a method; metrics name the standard ones and
// count the rest as "other", so that invented methods add no series.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i := range 50 {
		h.do(t, request{method: "INVENTED" + strconv.Itoa(i), path: "/v1/notifications"})
	}
	h.do(t, request{method: http.MethodGet, path: "/healthz"})
	res := h.do(t, request{method: http.MethodGet, path: "/metrics"})
	if bytes.Contains(res.body, []byte("INVENTED")) {
		t.Fatal("/metrics has a series for an invented method")
	}
	m := h.metrics(t)
	if m[`notifyd_http_request_duration_seconds_count{code="405",method="other",route="unmatched"}`] != 50 {
		t.Errorf("invented methods not counted as other: %v", filterKeys(m, "notifyd_http_request_duration_seconds_count"))
	}
	if m[`notifyd_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"}`] != 1 {
		t.Errorf("GET not counted as GET: %v", filterKeys(m, "notifyd_http_request_duration_seconds_count"))
	}
}

func filterKeys(m map[string]float64, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// The address logged for a refused ping is the connection's peer unless
// the request came through a configured proxy: a client cannot choose it
// with X-Forwarded-For or X-Real-IP.
func TestRemoteAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no proxy configured", nil, "remote=127.0.0.1"},
		{"another proxy configured", []string{"10.0.0.0/8"}, "remote=127.0.0.1"},
		{"loopback is the proxy", []string{"127.0.0.1"}, "remote=203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			reg := prometheus.NewRegistry()
			handler, err := api.New(api.Options{MaxBodyBytes: maxBody, Gatherer: reg, Logger: log,
				Systems:        []api.System{{Name: sysCal, Tokens: []string{tokenCal}}},
				TrustedProxies: tc.proxies,
				Metrics:        api.NewMetrics(reg)})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(handler)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications",
				strings.NewReader(`{"system":"cal","token":"wrong-token","hrefs":["/p/a"]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Real-IP", "203.0.113.9")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d", res.StatusCode)
			}
			var refused string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "ping refused") {
					refused = line
				}
			}
			if !strings.Contains(refused, tc.want) {
				t.Errorf("log %q, want %s", refused, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that handlers may write from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
