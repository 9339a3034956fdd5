package caldavclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	// ErrNotFound reports that the resource is gone (404 or 410), or that a
	// principal has no notification collection.
	ErrNotFound = errors.New("caldav: not found")
	// ErrInvalidSyncToken reports that the server refused the sync token
	// (the DAV:valid-sync-token precondition): the caller must sync again
	// from an empty token.
	ErrInvalidSyncToken = errors.New("caldav: invalid sync token")
	// ErrPreconditionFailed reports a 412: the resource's ETag no longer
	// matches the one given (it changed since it was read).
	ErrPreconditionFailed = errors.New("caldav: precondition failed (ETag changed)")
	// ErrNotSupported reports that the server does not allow the method on
	// the resource (405, 403 or 501), e.g. PUT on a Cyrus notification.
	ErrNotSupported = errors.New("caldav: not supported by the server")
	// ErrTooLarge reports a response body longer than Config.MaxResponseBytes;
	// nothing of it is used.
	ErrTooLarge = errors.New("caldav: response too large")
	// ErrOffOrigin reports a URL (an href or notification-URL from the
	// server, a redirect, or an argument) whose scheme, host or port differs
	// from the base URL's. The request was not sent.
	ErrOffOrigin = errors.New("caldav: URL outside the configured origin refused")
	// ErrNotCalendar reports that CalendarName was asked for something
	// other than a calendar collection directly in the principal's
	// calendar home; nothing was read. Name the calendar by the last
	// segment of its href.
	ErrNotCalendar = errors.New("caldav: not a calendar of the principal's calendar home")
	// ErrNotMember reports that MultiGet was asked for an href that is not
	// a member of the calendar (outside its path, or with a dot segment or
	// an encoded slash a server could resolve elsewhere); nothing was
	// sent.
	ErrNotMember = errors.New("caldav: not a member of the collection")
	// ErrMoved reports that the server redirected a collection (Sync,
	// MultiGet) to another path, where its members are: the error's text
	// names that path. Cyrus 3.6 redirects another user's calendar
	// /dav/calendars/user/OWNER/NAME/ to the reader's view of it,
	// /dav/calendars/user/READER/OWNER.NAME/ (the href Calendars reports).
	ErrMoved = errors.New("caldav: collection moved")
)

// HTTPError is an unexpected HTTP status from the CalDAV server. Errors
// that map to a sentinel (ErrNotFound, …) wrap an *HTTPError too, so
// errors.As finds the status.
type HTTPError struct {
	// Method is the request's method.
	Method string
	// URL is the request's URL.
	URL string
	// Status is the HTTP status code.
	Status int
	// Body is the start of the response body (at most 512 bytes), with
	// control characters and invalid UTF-8 replaced and white space folded.
	Body string
	// RetryAfter is the delay the server asked for with Retry-After (429,
	// 503), zero when absent.
	RetryAfter time.Duration
}

// Error describes the request and the status.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("caldav: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// maxErrorBody is how much of an error body HTTPError keeps.
const maxErrorBody = 512

// sanitizeBody returns the first maxErrorBody bytes of b as printable,
// valid UTF-8 on one line.
func sanitizeBody(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
		// Do not cut a UTF-8 sequence in two.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	var out strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			r = '\uFFFD'
		}
		if space && out.Len() > 0 {
			out.WriteByte(' ')
		}
		space = false
		out.WriteRune(r)
	}
	return out.String()
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

// protocolError is a response the client cannot make sense of (malformed
// XML, a multistatus without a sync token, …). It is not temporary.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "caldav: " + e.msg }

func protoErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// IsTemporary reports whether err may go away if the request is retried
// later: connection errors, timeouts, 408, 429 and 5xx statuses except 501
// and 507 (507 counts as temporary only for a REPORT, i.e. within a sync).
// It is false for nil, other 4xx statuses, the sentinel errors (ErrNotFound,
// ErrInvalidSyncToken, ErrPreconditionFailed, ErrNotSupported, ErrTooLarge,
// ErrOffOrigin, ErrNotCalendar, ErrNotMember, ErrMoved), malformed or refused responses, TLS
// certificate errors, a cancelled context and configuration errors.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	for _, s := range []error{ErrNotFound, ErrInvalidSyncToken, ErrPreconditionFailed, ErrNotSupported, ErrTooLarge, ErrOffOrigin, ErrNotCalendar, ErrNotMember, ErrMoved} {
		if errors.Is(err, s) {
			return false
		}
	}
	var he *HTTPError
	if errors.As(err, &he) {
		switch {
		case he.Status == http.StatusRequestTimeout, he.Status == http.StatusTooManyRequests:
			return true
		case he.Status == http.StatusNotImplemented:
			return false
		case he.Status == http.StatusInsufficientStorage:
			return he.Method == "REPORT"
		case he.Status >= 500 && he.Status <= 599:
			return true
		}
		return false
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// TLS verification failures are configuration problems.
	var (
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
		tve  *tls.CertificateVerificationError
		rhe  tls.RecordHeaderError
		dnse *net.DNSError
	)
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &tve) || errors.As(err, &rhe) {
		return false
	}
	if errors.As(err, &dnse) {
		return !dnse.IsNotFound
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	var te *transportError
	return errors.As(err, &te)
}

// transportError is a failure of the HTTP exchange itself (connection
// refused or reset, server closed the connection, …): temporary.
type transportError struct {
	method, url string
	err         error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("caldav: %s %s: %v", e.method, e.url, e.err)
}

func (e *transportError) Unwrap() error { return e.err }
