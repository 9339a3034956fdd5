package caldavclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// response is a response whose body was read whole (within the cap).
type response struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL
	method string
}

// send sends method to u with body and headers. The response body is
// capped at MaxResponseBytes; the caller closes it.
func (c *Client) send(ctx context.Context, method string, u *url.URL, body []byte, header http.Header) (*http.Response, error) {
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return nil, fmt.Errorf("caldav: %s %s: %w", method, redact(u), err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.http.Do(req)
}

// do sends method to u with body and headers and reads the whole response
// body (at most MaxResponseBytes: beyond that, ErrTooLarge).
func (c *Client) do(ctx context.Context, method string, u *url.URL, body []byte, header http.Header) (*response, error) {
	resp, err := c.send(ctx, method, u, body, header)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return c.read(ctx, method, u, resp)
}

// read reads resp's body whole, or only its start when the status is not
// 2xx.
func (c *Client) read(ctx context.Context, method string, u *url.URL, resp *http.Response) (*response, error) {
	var rd io.Reader = resp.Body
	if resp.StatusCode/100 != 2 {
		// Only the start of an error body is used: do not let a long error
		// page turn a status into ErrTooLarge.
		rd = io.LimitReader(resp.Body, min(maxErrorRead, c.maxBytes))
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, c.readError(ctx, method, u, c.maxBytes, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data, url: finalURL(u, resp), method: method}, nil
}

// readError describes err, met reading the body (of at most limit bytes)
// of the answer to method u.
func (c *Client) readError(ctx context.Context, method string, u *url.URL, limit int64, err error) error {
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%w: %s %s: body over %d bytes", ErrTooLarge, method, redact(u), limit)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("caldav: %s %s: %w", method, redact(u), ctxErr)
	}
	return &transportError{method: method, url: redact(u), err: err}
}

// finalURL is the URL that answered a request to u (after redirects).
func finalURL(u *url.URL, resp *http.Response) *url.URL {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL
	}
	return u
}

// multistatus sends method to u and, when the answer is a 207, reads it as
// a multistatus one DAV:response at a time (see readMultistatus), from a
// body of at most limit bytes, calling each with the URL that answered
// and each response; it returns the DAV:sync-token. For any other status
// it returns the response (with the start of its body) and no error: the
// caller decides what the status means. An answer beyond readMultistatus's
// bounds is a protocol error saying which bound; a longer body is
// ErrTooLarge.
func (c *Client) multistatus(ctx context.Context, method string, u *url.URL, body string, header http.Header,
	limit int64, each func(final *url.URL, r *msResponse) error) (*response, string, error) {
	resp, err := c.send(ctx, method, u, []byte(body), header)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusMultiStatus {
		defer resp.Body.Close()
		r, err := c.read(ctx, method, u, resp)
		return r, "", err
	}
	limit = min(limit, c.maxBytes)
	if resp.ContentLength > limit {
		drainClose(resp.Body)
		return nil, "", fmt.Errorf("%w: %s %s: Content-Length %d > %d bytes", ErrTooLarge, method, redact(u), resp.ContentLength, limit)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, url: finalURL(u, resp), method: method}
	rd := &readRecorder{r: &cappedBody{rc: resp.Body, left: limit}}
	var eachErr error
	token, err := readMultistatusData(rd, c.maxObject, func(m *msResponse) error {
		eachErr = each(r.url, m)
		return eachErr
	})
	switch {
	case err == nil:
		drainClose(resp.Body)
		return r, token, nil
	case eachErr != nil:
		_ = resp.Body.Close()
		return nil, "", eachErr
	case rd.err != nil:
		_ = resp.Body.Close()
		return nil, "", c.readError(ctx, method, u, limit, rd.err)
	}
	_ = resp.Body.Close()
	var pe *protocolError
	if errors.As(err, &pe) {
		return nil, "", protoErrorf("%s %s: multistatus refused, the server is broken or hostile: %s", method, redact(u), pe.msg)
	}
	return nil, "", protoErrorf("%s %s: malformed multistatus: %v", method, redact(u), err)
}

// readRecorder remembers the error its reader returned, other than EOF.
type readRecorder struct {
	r   io.Reader
	err error
}

func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// httpError builds the HTTPError for r.
func (r *response) httpError() *HTTPError {
	he := &HTTPError{
		Method: r.method,
		URL:    redact(r.url),
		Status: r.status,
		Body:   sanitizeBody(r.body),
	}
	if r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable || r.status/100 == 5 {
		he.RetryAfter = parseRetryAfter(r.header.Get("Retry-After"), time.Now())
	}
	return he
}

// wrap returns sentinel wrapping r's HTTPError.
func (r *response) wrap(sentinel error) error {
	return fmt.Errorf("%w: %w", sentinel, r.httpError())
}
