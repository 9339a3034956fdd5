package api_test

import (
	"bytes"
	"fmt"
	"github.com/notifyd/notifyd/internal/testdb"
	"io"
	"net/http"
	"strings"
	"testing"
)

// pingJSON builds a ping body for system cal with its token and the given
// hrefs, JSON-encoded by hand so that a test controls every byte.
func pingJSON(hrefs ...string) string {
	quoted := make([]string, len(hrefs))
	for i, h := range hrefs {
		quoted[i] = jsonString(h)
	}
	return `{"system":"cal","token":"` + tokenCal + `","hrefs":[` + strings.Join(quoted, ",") + `]}`
}

// jsonString quotes s as a JSON string, escaping only '"' and '\' so that
// raw bytes (non-ASCII, invalid UTF-8) reach the server as they are.
func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// badInput is a request notifyd must refuse without queueing anything.
type badInput struct {
	name string
	path string // default /v1/notifications
	// body is the raw body; bodyFn, if set, makes a large one.
	body        string
	bodyFn      func() io.Reader
	contentType string
	noBody      bool
	chunked     bool
	bearer      string
	// the answer
	status int
	typ    string
	fields []string // each must be among errors[].field
	// reason is the notifyd_pings_rejected_total label that must move by
	// one (pings only).
	reason string
}

func badInputs() []badInput {
	ok := "/principals/users/fred"
	many := make([]string, 10000)
	for i := range many {
		many[i] = fmt.Sprintf("/p/u%d", i)
	}
	huge := func() io.Reader {
		// A valid ping padded with 5 MiB of hrefs.
		var b bytes.Buffer
		b.WriteString(`{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"`)
		for b.Len() < 5<<20 {
			b.WriteString(`,"/principals/users/padding-padding-padding"`)
		}
		b.WriteString(`]}`)
		return &b
	}
	long := "/p/" + strings.Repeat("a", 1022) // 1025 bytes
	validSub := `{"system":"cal","principal":"/p/fred","methods":[{"channel":"email","address":"fred@example.org"}]}`
	return []badInput{
		// Not JSON, or not a JSON object.
		{name: "malformed JSON", body: `{system: "cal"}`, status: 400, typ: typeMalformed, reason: "malformed"},
		{name: "truncated JSON", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"`, status: 400, typ: typeMalformed, reason: "malformed"},
		{name: "trailing garbage", body: pingJSON(ok) + `}`, status: 400, typ: typeMalformed, reason: "malformed"},
		{name: "empty body", body: "", status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "no body at all", noBody: true, contentType: "application/json", status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "JSON array", body: `[{"system":"cal"}]`, status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "JSON string", body: `"cal"`, status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "JSON number", body: `42`, status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "JSON null", body: `null`, status: 400, typ: typeValidation, fields: []string{""}, reason: "invalid"},
		{name: "raw control character in a string", body: pingJSON("/p/a\x01b"), status: 400, typ: typeMalformed, reason: "malformed"},

		// Wrong types and unknown or missing fields.
		{name: "system is a number", body: `{"system":7,"token":"` + tokenCal + `","hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/system"}, reason: "invalid"},
		{name: "hrefs is a string", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":"/p/a"}`, status: 400, typ: typeValidation, fields: []string{"/hrefs"}, reason: "invalid"},
		{name: "href items are numbers", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a",1,2]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/1", "/hrefs/2"}, reason: "invalid"},
		{name: "href item is null", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a",null]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/1"}, reason: "invalid"},
		{name: "token is a number", body: `{"system":"cal","token":12345,"hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/token"}, reason: "invalid"},
		{name: "unknown field", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"],"extra":true}`, status: 400, typ: typeValidation, fields: []string{"/extra"}, reason: "invalid"},
		{name: "empty system", body: `{"system":"","token":"` + tokenCal + `","hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/system"}, reason: "invalid"},
		{name: "system too long", body: `{"system":"` + strings.Repeat("s", 65) + `","token":"` + tokenCal + `","hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/system"}, reason: "invalid"},
		{name: "missing system", body: `{"token":"` + tokenCal + `","hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/system"}, reason: "invalid"},
		{name: "empty resourceName", body: `{"system":"cal","token":"` + tokenCal + `","href":"/p/a","resourceName":""}`, status: 400, typ: typeValidation, fields: []string{"/resourceName"}, reason: "invalid"},

		// Credentials and systems.
		{name: "missing token", body: `{"system":"cal","hrefs":["/p/a"]}`, status: 401, typ: typeUnauthorized, reason: "missing_token"},
		{name: "empty token", body: `{"system":"cal","token":"","hrefs":["/p/a"]}`, status: 400, typ: typeValidation, fields: []string{"/token"}, reason: "invalid"},
		{name: "wrong token", body: `{"system":"cal","token":"not-the-token","hrefs":["/p/a"]}`, status: 401, typ: typeUnauthorized, reason: "bad_token"},
		{name: "another system's token", body: `{"system":"cal","token":"` + tokenOther + `","hrefs":["/p/a"]}`, status: 401, typ: typeUnauthorized, reason: "bad_token"},
		{name: "wrong bearer token", body: `{"system":"cal","hrefs":["/p/a"]}`, bearer: "not-the-token", status: 401, typ: typeUnauthorized, reason: "bad_token"},
		{name: "token in body and a different bearer", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"]}`, bearer: tokenCal2, status: 401, typ: typeUnauthorized, reason: "bad_token"},
		{name: "unknown system", body: `{"system":"nosuch","token":"` + tokenCal + `","hrefs":["/p/a"]}`, status: 401, typ: typeUnauthorized, reason: "unknown_system"},
		{name: "unknown system, bearer", body: `{"system":"nosuch","hrefs":["/p/a"]}`, bearer: tokenCal, status: 401, typ: typeUnauthorized, reason: "unknown_system"},

		// Size and media type.
		{name: "10,000 hrefs", body: pingJSON(many...), status: 400, typ: typeValidation, fields: []string{"/hrefs"}, reason: "invalid"},
		{name: "5 MiB body", bodyFn: huge, status: 413, typ: typeTooLarge, reason: "too_large"},
		{name: "5 MiB body, chunked", bodyFn: huge, chunked: true, status: 413, typ: typeTooLarge, reason: "too_large"},
		{name: "Content-Type text/plain", body: pingJSON(ok), contentType: "text/plain", status: 415, typ: typeMediaType, reason: "media_type"},
		{name: "Content-Type form", body: pingJSON(ok), contentType: "application/x-www-form-urlencoded", status: 415, typ: typeMediaType, reason: "media_type"},
		{name: "no Content-Type", body: pingJSON(ok), contentType: "-", status: 415, typ: typeMediaType, reason: "media_type"},

		// Hrefs that could leave the principal's path or server. The bad
		// one is the fourth, after three good ones, so that the error
		// names its index.
		{name: "href with scheme", body: pingJSON(ok, "/p/b", "/p/c", "http://host/x"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "href with host", body: pingJSON(ok, "/p/b", "/p/c", "//evil/x"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "relative href", body: pingJSON(ok, "/p/b", "/p/c", "principals/users/fred"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "dot-dot segment", body: pingJSON(ok, "/p/b", "/p/c", "/principals/../admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "dot segment", body: pingJSON(ok, "/p/b", "/p/c", "/principals/./users"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "trailing dot-dot", body: pingJSON(ok, "/p/b", "/p/c", "/principals/.."), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%2e%2e", body: pingJSON(ok, "/p/b", "/p/c", "/principals/%2e%2e/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%252e%252e", body: pingJSON(ok, "/p/b", "/p/c", "/principals/%252e%252e/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: ".%2E", body: pingJSON(ok, "/p/b", "/p/c", "/principals/.%2E/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "query", body: pingJSON(ok, "/p/b", "/p/c", "/principals/users/fred?x=1"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "fragment", body: pingJSON(ok, "/p/b", "/p/c", "/principals/users/fred#x"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "NUL (JSON escape)", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a","/p/b","/p/c","/p/fred\u0000x"]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "ESC (JSON escape)", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a","/p/b","/p/c","/p/fred\u001bx"]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "DEL", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred\x7f"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%00", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred%00.ics"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%0a", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred%0aX-Injected:%201"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "backslash", body: pingJSON(ok, "/p/b", "/p/c", `/p\..\admin`), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%5c", body: pingJSON(ok, "/p/b", "/p/c", `/p/%5c..%5cadmin`), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "%2f", body: pingJSON(ok, "/p/b", "/p/c", "/p/..%2fadmin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "malformed percent-encoding", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred%4"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "fullwidth dots, raw", body: pingJSON(ok, "/p/b", "/p/c", "/p/\uFF0E\uFF0E/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "fullwidth dots, percent-encoded", body: pingJSON(ok, "/p/b", "/p/c", "/p/%EF%BC%8E%EF%BC%8E/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "one-dot leader, percent-encoded", body: pingJSON(ok, "/p/b", "/p/c", "/p/%E2%80%A4/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "division slash U+2215, raw", body: pingJSON(ok, "/p/b", "/p/c", "/p/..\u2215admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "division slash U+2215, percent-encoded", body: pingJSON(ok, "/p/b", "/p/c", "/p/..%E2%88%95admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "RTL override U+202E, raw", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred\u202Esci.exe"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "RTL override U+202E, percent-encoded", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred%E2%80%AEsci.exe"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "raw non-ASCII", body: pingJSON(ok, "/p/b", "/p/c", "/p/frédéric"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "overlong UTF-8 dot %C0%AE", body: pingJSON(ok, "/p/b", "/p/c", "/p/%C0%AE%C0%AE/admin"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "invalid UTF-8 %FF", body: pingJSON(ok, "/p/b", "/p/c", "/p/fred%FF"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "href over 1024 bytes", body: pingJSON(ok, "/p/b", "/p/c", long), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "invalid"},
		{name: "empty href in hrefs", body: pingJSON(ok, "/p/b", "/p/c", ""), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "invalid"},
		{name: "one bad href among good ones queues none", body: pingJSON("/p/new1", "/p/new2", "/p/new3", "/p/x/../y", "/p/new4"), status: 400, typ: typeValidation, fields: []string{"/hrefs/3"}, reason: "bad_href"},
		{name: "several bad hrefs are all named", body: pingJSON("/p/a/..", ok, "//evil", "/p/c", "/p/%2e"), status: 400, typ: typeValidation, fields: []string{"/hrefs/0", "/hrefs/2", "/hrefs/4"}, reason: "bad_href"},
		{name: "single href bad", body: `{"system":"cal","token":"` + tokenCal + `","href":"/p/../x","resourceName":"a.xml"}`, status: 400, typ: typeValidation, fields: []string{"/href"}, reason: "bad_href"},

		// Which principals.
		{name: "hrefs and href both", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/a"],"href":"/p/b"}`, status: 400, typ: typeValidation, fields: []string{"/href"}, reason: "invalid"},
		{name: "neither hrefs nor href", body: `{"system":"cal","token":"` + tokenCal + `"}`, status: 400, typ: typeValidation, fields: []string{"/hrefs"}, reason: "invalid"},
		{name: "empty hrefs array", body: `{"system":"cal","token":"` + tokenCal + `","hrefs":[]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs"}, reason: "invalid"},
		{name: "empty href", body: `{"system":"cal","token":"` + tokenCal + `","href":""}`, status: 400, typ: typeValidation, fields: []string{"/href"}, reason: "invalid"},
		{name: "href outside principal_prefix", body: `{"system":"prefixed","token":"` + tokenPrefixed + `","hrefs":["/principals/users/fred","/principals/resources/room1"]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/1"}, reason: "bad_href"},
		{name: "href beside principal_prefix", body: `{"system":"prefixed","token":"` + tokenPrefixed + `","hrefs":["/principals/usersX/fred"]}`, status: 400, typ: typeValidation, fields: []string{"/hrefs/0"}, reason: "bad_href"},

		// The subscriptions API refuses bad bodies the same way.
		{name: "subscription: malformed JSON", path: "/v1/subscriptions", bearer: apiKey, body: `{"system":`, status: 400, typ: typeMalformed},
		{name: "subscription: JSON array", path: "/v1/subscriptions", bearer: apiKey, body: `[]`, status: 400, typ: typeValidation, fields: []string{""}},
		{name: "subscription: unknown field", path: "/v1/subscriptions", bearer: apiKey, body: strings.TrimSuffix(validSub, "}") + `,"extra":1}`, status: 400, typ: typeValidation, fields: []string{"/extra"}},
		{name: "subscription: unknown method field", path: "/v1/subscriptions", bearer: apiKey, body: `{"system":"cal","principal":"/p/fred","methods":[{"channel":"email","address":"fred@example.org","priority":1}]}`, status: 400, typ: typeValidation, fields: []string{"/methods/0/priority"}},
		{name: "subscription: no methods", path: "/v1/subscriptions", bearer: apiKey, body: `{"system":"cal","principal":"/p/fred","methods":[]}`, status: 400, typ: typeValidation, fields: []string{"/methods"}},
		{name: "subscription: text/plain", path: "/v1/subscriptions", bearer: apiKey, body: validSub, contentType: "text/plain", status: 415, typ: typeMediaType},
		{name: "subscription: 5 MiB", path: "/v1/subscriptions", bearer: apiKey, bodyFn: huge, status: 413, typ: typeTooLarge},
		{name: "subscription: no API key", path: "/v1/subscriptions", body: validSub, status: 401, typ: typeUnauthorized},
		{name: "subscription: ping token as API key", path: "/v1/subscriptions", bearer: tokenCal, body: validSub, status: 401, typ: typeUnauthorized},
		{name: "subscription: principal with dot-dot", path: "/v1/subscriptions", bearer: apiKey, body: `{"system":"cal","principal":"/p/%2e%2e/admin","methods":[{"channel":"email","address":"fred@example.org"}]}`, status: 400, typ: typeValidation, fields: []string{"/principal"}},
	}
}

// TestBadInputsQueueNothing sends each bad input and checks the exact
// problem, that nothing was queued or stored, and that the rejection was
// counted under the right reason.
func TestBadInputsQueueNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inputs := badInputs()
	if n := len(inputs); n < 30 {
		t.Fatalf("only %d bad inputs", n)
	}
	// Queue one principal first, so that "unchanged" also covers a ping
	// advancing an existing principal's dirty generation.
	if res := h.do(t, request{method: http.MethodPost, path: "/v1/notifications", body: jsonBody(t, pingJSON("/principals/users/fred"))}); res.status != http.StatusAccepted {
		t.Fatalf("setup ping: %d %s", res.status, res.body)
	}
	metrics := h.metrics(t)
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			before := h.queued(t)
			subsBefore := h.subscriptionRows(t)
			req := request{method: http.MethodPost, path: in.path, bearer: in.bearer, contentType: in.contentType}
			if req.path == "" {
				req.path = "/v1/notifications"
			}
			switch {
			case in.bodyFn != nil:
				req.body = in.bodyFn()
			case !in.noBody:
				req.body = strings.NewReader(in.body)
			}
			if in.noBody {
				req.header = map[string]string{"Content-Type": in.contentType}
			}
			if in.chunked {
				req.contentLength = -1
			}
			if in.contentType == "-" {
				req.contentType = ""
				req.header = map[string]string{"Content-Type": ""}
			}
			res := h.do(t, req)
			t.Logf("%d %.300s", res.status, res.body)
			if res.status >= 500 {
				t.Fatalf("server error %d: %s", res.status, res.body)
			}
			if res.status != in.status {
				t.Errorf("status %d, want %d; body %s", res.status, in.status, res.body)
			}
			p := res.problem(t)
			if p.Type != in.typ {
				t.Errorf("type %q, want %q; body %s", p.Type, in.typ, res.body)
			}
			if p.Status != res.status {
				t.Errorf("problem status %d, HTTP status %d", p.Status, res.status)
			}
			for _, f := range in.fields {
				if !p.hasField(f) {
					t.Errorf("errors[].field %q, want %q among them; body %s", p.fields(), f, res.body)
				}
			}
			if in.typ == typeValidation && len(p.Errors) == 0 {
				t.Errorf("validation problem without errors: %s", res.body)
			}
			if in.status == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if after := h.queued(t); after != before {
				t.Errorf("queue changed: before %+v, after %+v", before, after)
			}
			if after := h.subscriptionRows(t); after != subsBefore {
				t.Errorf("subscriptions changed: %d before, %d after", subsBefore, after)
			}

			now := h.metrics(t)
			for k, v := range now {
				if !strings.HasPrefix(k, "notifyd_pings_") {
					continue
				}
				want := metrics[k]
				if in.reason != "" && k == rejected(in.reason) {
					want++
				}
				if v != want {
					t.Errorf("%s = %v, want %v", k, v, want)
				}
			}
			if in.reason != "" {
				if _, ok := now[rejected(in.reason)]; !ok {
					t.Errorf("no series %s", rejected(in.reason))
				}
			}
			metrics = now
		})
	}
}

// subscriptionRows counts the stored subscriptions.
func (h *harness) subscriptionRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := testdb.QueryRow(h.db, `SELECT count(*) FROM subscriptions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
