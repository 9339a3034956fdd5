package peertest

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fault is what a FaultProxy does with one request instead of passing it
// on. The zero Fault passes it on.
type Fault struct {
	// Status, when not 0, is answered without asking the peer, with Body
	// and Header.
	Status int
	Header http.Header
	Body   []byte
	// BodyBytes, when > 0, replaces the peer's answer body with that many
	// bytes (filler), sent with Content-Length and the peer's status and
	// headers: an oversized resource.
	BodyBytes int64
	// Chunked sends the BodyBytes filler without a Content-Length, so
	// that the client learns its size only by reading it.
	Chunked bool
	// Replace, when not nil, replaces the peer's answer body (the status
	// and headers are the peer's).
	Replace []byte
}

// Exchange is one request a FaultProxy handled.
type Exchange struct {
	// At is when the request arrived.
	At time.Time
	// Method and Path are the request's.
	Method, Path string
	// Form is the request's URL-encoded form body (nil for other bodies).
	Form url.Values
	// Status is what the proxy answered.
	Status int
	// Injected is true when the proxy answered with a Fault rather than
	// the peer's answer.
	Injected bool
}

// FaultProxy is an HTTP reverse proxy on a loopback port in front of a
// peer, which answers chosen requests itself (errors, rate limiting,
// corrupted or oversized bodies) and records every request, for tests of
// how notifyd copes with a misbehaving provider or server.
type FaultProxy struct {
	// URL is the proxy's base URL, to configure instead of the peer's.
	URL string

	srv   *httptest.Server
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	decide    func(r *http.Request, form url.Values) Fault
	exchanges []Exchange
}

// StartFaultProxy starts a proxy to target (a base URL) that passes every
// request on until SetFaults says otherwise; the test's cleanup stops it.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{proxy: httputil.NewSingleHostReverseProxy(u)}
	quiet := log.New(io.Discard, "", 0)
	p.proxy.ErrorLog = quiet
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.Config.ErrorLog = quiet
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

// SetFaults sets the function that decides each request's fate (nil: pass
// every request on). form is the request's URL-encoded form, if it has
// one; the body is still passed on intact.
func (p *FaultProxy) SetFaults(decide func(r *http.Request, form url.Values) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.decide = decide
}

// Exchanges returns the requests handled so far, in arrival order.
func (p *FaultProxy) Exchanges() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.exchanges...)
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	x := Exchange{At: time.Now(), Method: r.Method, Path: r.URL.Path}
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		x.Form, _ = url.ParseQuery(string(body))
	}
	p.mu.Lock()
	decide := p.decide
	p.mu.Unlock()
	var f Fault
	if decide != nil {
		f = decide(r, x.Form)
	}
	rec := &statusRecorder{ResponseWriter: w}
	switch {
	case f.Status != 0:
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(f.Status)
		w.Write(f.Body)
		rec.status, x.Injected = f.Status, true
	case f.BodyBytes > 0 || f.Replace != nil:
		x.Injected = true
		rp := *p.proxy
		rp.ModifyResponse = func(resp *http.Response) error {
			resp.Body.Close()
			var body io.Reader = bytes.NewReader(f.Replace)
			n := int64(len(f.Replace))
			if f.BodyBytes > 0 {
				body, n = io.LimitReader(filler{}, f.BodyBytes), f.BodyBytes
			}
			resp.Body = io.NopCloser(body)
			resp.ContentLength = n
			resp.Header.Set("Content-Length", strconv.FormatInt(n, 10))
			if f.Chunked {
				resp.ContentLength = -1
				resp.Header.Del("Content-Length")
			}
			return nil
		}
		rp.ServeHTTP(rec, r)
	default:
		p.proxy.ServeHTTP(rec, r)
	}
	x.Status = rec.status
	p.mu.Lock()
	p.exchanges = append(p.exchanges, x)
	p.mu.Unlock()
}

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// filler is an endless stream of 'x'.
type filler struct{}

func (filler) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}
