package webhook

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/notifyd/notifyd/delivery"
)

const (
	// maxBody is how much of a response body is read (the rest is
	// dropped with the connection).
	maxBody = 64 << 10
	// maxSnippet is how many characters of the body an error quotes.
	maxSnippet = 200
	// maxRetryAfter caps the wait a receiver can ask for.
	maxRetryAfter = time.Hour
)

// StatusError is a non-2xx answer from the receiver.
type StatusError struct {
	// URL is the target, without its query.
	URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Location is the redirect target of a 3xx answer, cleaned up.
	Location string
	// Body is the start of the response body, cleaned up to one line.
	Body string
}

// Error names the target and the status, the Location of a redirect and
// the start of the body.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "webhook to %s: HTTP %d", e.URL, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		if e.Location != "" {
			b.WriteString(" to " + e.Location)
		}
		b.WriteString(": redirects are not followed; update the method's address")
	}
	if e.Body != "" {
		b.WriteString("; response: " + e.Body)
	}
	return b.String()
}

// Unwrap returns delivery.ErrRecipientGone for 410 Gone (the receiver
// wants no more webhooks: the engine disables the method), else nil.
func (e *StatusError) Unwrap() error {
	if e.StatusCode == http.StatusGone {
		return delivery.ErrRecipientGone
	}
	return nil
}

// outcome classifies a response: nil for 2xx, temporary for 408, 429 and
// 5xx (with the Retry-After asked for), permanent otherwise. It reads at
// most maxBody bytes of the body.
func outcome(resp *http.Response, target string, now time.Time) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	e := &StatusError{URL: target, StatusCode: code, Body: clean(string(body), maxSnippet)}
	switch {
	case code >= 300 && code < 400:
		e.Location = clean(resp.Header.Get("Location"), maxSnippet)
		return e
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500 && code < 600:
		return delivery.Temporary(e, retryAfter(resp.Header.Get("Retry-After"), now))
	}
	return e
}

// retryAfter reads a Retry-After value (delay in seconds or HTTP date): 0
// when absent, invalid or past, at most maxRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		if secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now).Round(time.Second)
	}
	return min(max(d, 0), maxRetryAfter)
}

// clean makes s safe to quote in a log: valid UTF-8, control and format
// characters (bidirectional overrides…) gone, white space collapsed, at
// most n characters.
func clean(s string, n int) string {
	var b strings.Builder
	count, space := 0, false
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		gap := space && count > 0
		if gap && count+2 > n || count+1 > n {
			b.WriteString("…")
			return b.String()
		}
		if gap {
			b.WriteByte(' ')
			count++
		}
		space = false
		b.WriteRune(r)
		count++
	}
	return b.String()
}
