package api_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"testing"
)

// FuzzRequests sends random bodies, headers and methods to the ping and
// subscription routes and checks what any caller may rely on, whatever
// it sends: no 5xx, an answer that keeps to openapi.yaml, a problem of at
// most 16 KiB, and bounded memory per request.
//
//	go test -run XXX -fuzz FuzzRequests ./api/
func FuzzRequests(f *testing.F) {
	h := newHarness(f)
	h.srv.Config.Handler.(*contractChecker).silent = true
	seeds := []struct {
		method, route, auth, media byte
		body                       string
	}{
		{1, 0, 2, 0, `{"system":"cal","token":"` + tokenCal + `","hrefs":["/p/fred"]}`},
		{1, 0, 0, 0, `{"system":"cal","hrefs":["/p/fred", 1, null, {}]}`},
		{1, 0, 0, 0, string(hostileBody(`{"system":"nosuch","hrefs":[`, "1", "]}", false))},
		{1, 0, 2, 0, string(hostileBody(`{"system":"cal","hrefs":[`, `"/p/..;/x"`, "]}", false))},
		{1, 1, 1, 0, `{"system":"cal","principal":"/p/fred","methods":[{"channel":"email","address":"fred@example.org"}]}`},
		{1, 1, 1, 0, string(hostileBody(`{"system":"cal","principal":"/p/fred",`, "1", "}", true))},
		{3, 2, 1, 1, `{"methods":[{"channel":"webhook","address":"https://example.org/h","secret":"x"}]}`},
		{2, 2, 1, 0, `{"system":"cal","principal":"/p/fred","methods":[{"channel":"sms","address":"+15005550006"}]}`},
		{4, 2, 1, 0, ``},
		{5, 1, 1, 2, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`},
		{0, 1, 1, 0, ``},
	}
	for _, s := range seeds {
		f.Add(s.method, s.route, s.auth, s.media, []byte(s.body))
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "INVENTED", http.MethodOptions}
	routes := []string{"/v1/notifications", "/v1/subscriptions", "/v1/subscriptions/00000000-0000-4000-8000-000000000001"}
	auths := []string{"", apiKey, tokenCal}
	media := []string{"application/json", "application/merge-patch+json", "text/plain", "application/json; charset=utf-8"}
	f.Fuzz(func(t *testing.T, method, route, auth, mediaType byte, body []byte) {
		req, err := http.NewRequest(methods[int(method)%len(methods)], h.srv.URL+routes[int(route)%len(routes)], bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", media[int(mediaType)%len(media)])
		if a := auths[int(auth)%len(auths)]; a != "" {
			req.Header.Set("Authorization", "Bearer "+a)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := io.ReadAll(res.Body)
		res.Body.Close()
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, answer)
		}
		if v := res.Header.Get("X-Contract-Violation"); v != "" {
			t.Fatalf("%s %s -> %d breaks openapi.yaml: %s\n%.2000s", req.Method, req.URL.Path, res.StatusCode, v, answer)
		}
		if res.StatusCode >= 400 && len(answer) > maxProblemBytes {
			t.Fatalf("%s %s: a problem of %d bytes", req.Method, req.URL.Path, len(answer))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*uint64(len(body))+16<<20 {
			t.Fatalf("%s %s: %d bytes allocated for a body of %d", req.Method, req.URL.Path, alloc, len(body))
		}
	})
}
