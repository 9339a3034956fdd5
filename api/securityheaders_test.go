package api_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// csp parses a Content-Security-Policy into directive -> sources.
func csp(t *testing.T, header string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for d := range strings.SplitSeq(header, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := out[f[0]]; dup {
			t.Errorf("CSP %q repeats %s", header, f[0])
		}
		out[f[0]] = f[1:]
	}
	return out
}

// wantHardened fails t unless res has the headers every response has:
// nosniff, no framing, no referrer, and a CSP of at least default-src
// 'none', frame-ancestors 'none' and base-uri 'none'. It returns the CSP.
func wantHardened(t *testing.T, res response) map[string][]string {
	t.Helper()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := res.header.Get(name); got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	p := csp(t, res.header.Get("Content-Security-Policy"))
	for _, d := range []string{"default-src", "frame-ancestors", "base-uri"} {
		if !slices.Equal(p[d], []string{"'none'"}) {
			t.Errorf("CSP %s %q, want 'none' (policy %q)", d, p[d], res.header.Get("Content-Security-Policy"))
		}
	}
	return p
}

var (
	styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	// What a page may not have: its CSP allows none of it.
	unsafeMarkup = regexp.MustCompile(`(?i)<script|<link|<iframe|<img|<object|<embed|\sstyle=|\son[a-z]+=|javascript:|<form[^>]*\saction=`)
)

// wantPageHeaders fails t unless res, a page of notifyd, carries the
// headers of a web page: those of every response, a CSP whose style-src
// allows exactly its <style> elements by hash and whose form-action is
// 'self', and Cache-Control: no-store.
func wantPageHeaders(t *testing.T, res response) {
	t.Helper()
	p := wantHardened(t, res)
	if !slices.Equal(p["form-action"], []string{"'self'"}) {
		t.Errorf("CSP form-action %q, want 'self'", p["form-action"])
	}
	var hashes []string
	for _, m := range styleElement.FindAllStringSubmatch(string(res.body), -1) {
		sum := sha256.Sum256([]byte(m[1]))
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	slices.Sort(hashes)
	got := slices.Sorted(slices.Values(p["style-src"]))
	if !slices.Equal(got, hashes) {
		t.Errorf("CSP style-src %q, want the hashes of the page's <style> elements %q", got, hashes)
	}
	for d := range p {
		if !slices.Contains([]string{"default-src", "style-src", "form-action", "frame-ancestors", "base-uri"}, d) {
			t.Errorf("CSP has %s %q: a page needs no more than its styles and its form", d, p[d])
		}
	}
	if bad := unsafeMarkup.FindString(string(res.body)); bad != "" {
		t.Errorf("the page has %q, which its CSP forbids or which needs no exception: %s", bad, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// Every unsubscribe page (valid, invalid, expired, stale, gone) carries
// the security headers of a web page.
func TestUnsubscribePagesSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	valid := h.token(t, s.ID, s.Methods[0].ID)
	expiring := h.token(t, s.ID, s.Methods[1].ID)
	pages := []struct {
		name   string
		status int
		do     func() response
	}{
		{"confirmation", http.StatusOK, func() response { return h.unsubPage(t, valid) }},
		{"unsubscribed", http.StatusOK, func() response { return h.unsubPost(t, valid) }},
		{"invalid", http.StatusNotFound, func() response { return h.unsubPage(t, "hello") }},
		{"longer than the contract", http.StatusNotFound, func() response { return h.unsubPage(t, strings.Repeat("A", 600)) }},
		{"gone", http.StatusNotFound, func() response {
			return h.unsubPage(t, h.token(t, "0190a3c4-0000-7000-8000-000000000000", s.Methods[0].ID))
		}},
		{"stale", http.StatusGone, func() response {
			h.setMethods(t, s, true, true) // re-enables method 0
			return h.unsubPage(t, valid)
		}},
		{"stale, posted", http.StatusGone, func() response { return h.unsubPost(t, valid) }},
		{"expired", http.StatusGone, func() response {
			h.clock.advance(365 * 24 * time.Hour)
			return h.unsubPage(t, expiring)
		}},
		{"expired, posted", http.StatusGone, func() response { return h.unsubPost(t, expiring) }},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			res := p.do()
			wantHTML(t, res, p.status)
			wantPageHeaders(t, res)
		})
	}
}

// JSON answers, problems and the other documents get the headers too,
// with a CSP that allows nothing.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.twoMethodSub(t, "/p/fred")
	for name, req := range map[string]request{
		"subscription":         {method: http.MethodGet, path: "/v1/subscriptions/" + s.ID, bearer: apiKey},
		"unauthorized":         {method: http.MethodGet, path: "/v1/subscriptions"},
		"no such route":        {method: http.MethodGet, path: "/nowhere"},
		"no such method":       {method: http.MethodPut, path: "/healthz"},
		"invalid link, posted": {method: http.MethodPost, path: "/v1/unsubscribe/hello"},
		"healthz":              {method: http.MethodGet, path: "/healthz"},
		"metrics":              {method: http.MethodGet, path: "/metrics"},
		"openapi":              {method: http.MethodGet, path: "/openapi.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			p := wantHardened(t, h.do(t, req))
			if !slices.Equal(p["form-action"], []string{"'none'"}) || len(p) != 4 {
				t.Errorf("CSP %v, want default-src, frame-ancestors, base-uri and form-action all 'none'", p)
			}
		})
	}
	// The problem answering an unsubscribe token is not stored either.
	if cc := h.do(t, request{method: http.MethodPost, path: "/v1/unsubscribe/hello"}).header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the problem of an unsubscribe link, want no-store", cc)
	}
}
