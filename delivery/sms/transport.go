package sms

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxErrorBody is how much of an error reply's body is kept for the
// delivery log.
const maxErrorBody = 16 << 10

// maxRetryAfter caps the wait a Retry-After header can impose.
const maxRetryAfter = time.Hour

// exchange is the http.RoundTripper of one Send. twilio-go's requests
// carry no context and go to https://api.twilio.com; exchange gives them
// the Send's context (and still honours http.Client.Timeout), sends them
// to the configured base URL instead, and keeps what twilio-go does not
// expose: the reply's status, its Retry-After header and the beginning of
// an error reply's body.
type exchange struct {
	ctx  context.Context
	base http.RoundTripper
	// to, when not nil, replaces the scheme and host of every request; its
	// path, if any, is put before the request's.
	to *url.URL
	// now is the clock Retry-After dates are read with.
	now func() time.Time

	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	errBody    []byte
	// connecting: the transport looked for a connection (it reports its
	// progress through httptrace); wrote: it wrote a request, or began to.
	connecting, wrote bool
}

// RoundTrip sends req to the base URL, bound to both the Send's context
// and the request's own (which carries http.Client.Timeout).
func (x *exchange) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(x.ctx)
	stop := context.AfterFunc(req.Context(), cancel)
	release := func() { stop(); cancel() }
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { x.mu.Lock(); x.connecting = true; x.mu.Unlock() },
		WroteHeaders: func() { x.mu.Lock(); x.wrote = true; x.mu.Unlock() },
		WroteRequest: func(httptrace.WroteRequestInfo) { x.mu.Lock(); x.wrote = true; x.mu.Unlock() },
	})
	r := req.Clone(ctx)
	if x.to != nil {
		r.URL.Scheme, r.URL.Host = x.to.Scheme, x.to.Host
		if p := strings.TrimSuffix(x.to.Path, "/"); p != "" {
			r.URL.Path = p + r.URL.Path
			r.URL.RawPath = ""
		}
		r.Host = ""
	}
	res, err := x.base.RoundTrip(r)
	if err != nil {
		release()
		return nil, err
	}
	x.mu.Lock()
	x.status = res.StatusCode
	x.retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), x.now())
	x.mu.Unlock()
	if res.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		res.Body.Close()
		release()
		x.mu.Lock()
		x.errBody = b
		x.mu.Unlock()
		res.Body = io.NopCloser(bytes.NewReader(b))
		return res, nil
	}
	res.Body = &releasingBody{ReadCloser: res.Body, release: release}
	return res, nil
}

// reply returns what the last response said: its status (0 if none came),
// the Retry-After delay and the beginning of an error body.
func (x *exchange) reply() (status int, retryAfter time.Duration, errBody []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.status, x.retryAfter, x.errBody
}

// notSent reports whether the request certainly did not reach the API:
// the transport looked for a connection and wrote nothing.
func (x *exchange) notSent() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.connecting && !x.wrote
}

// releasingBody releases the request's context once the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

// Close closes the body and releases the request's context.
func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// parseRetryAfter reads a Retry-After value (seconds or an HTTP date),
// capped at maxRetryAfter; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
