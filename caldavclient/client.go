package caldavclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-webdav"
)

// Config configures a Client for one calendar system's CalDAV server.
type Config struct {
	// BaseURL is the system's CalDAV base URL (scheme://host[:port]/path/).
	// Every request goes to this origin (scheme, host and port) only; hrefs
	// from the server are resolved against it.
	BaseURL string
	// Username and Password are the basic-auth credentials (or use
	// BearerToken; not both).
	Username string
	// Password is the basic-auth password.
	Password string
	// BearerToken is sent as "Authorization: Bearer …" when set.
	BearerToken string
	// Timeout bounds each HTTP request, body included (default 30s).
	Timeout time.Duration
	// InsecureSkipVerify turns off TLS certificate verification.
	InsecureSkipVerify bool
	// MaxResponseBytes caps any response body (default 10 MiB). A longer
	// body is an error (ErrTooLarge), never partially parsed.
	MaxResponseBytes int64
	// UserAgent is the User-Agent header (default "notifyd").
	UserAgent string
	// MaxConnections caps the connections open to the server at once;
	// a request beyond it waits for one to be free (0: no cap).
	MaxConnections int
	// Logger gets the warnings about what the server sent that the client
	// ignores (slog.Default() when nil).
	Logger *slog.Logger
}

const (
	defaultTimeout          = 30 * time.Second
	defaultMaxResponseBytes = 10 << 20
	defaultUserAgent        = "notifyd"
	maxRedirects            = 5
	// maxErrorRead is how much of a non-2xx response body is read.
	maxErrorRead = 64 << 10
	// maxSyncRounds bounds how often Sync repeats a truncated (507) REPORT.
	maxSyncRounds = 1000
)

// Client talks to one CalDAV server. It is safe for concurrent use; create
// one per calendar system and reuse it (it keeps a connection pool).
type Client struct {
	base      *url.URL
	origin    string
	maxBytes  int64
	transport *http.Transport
	guard     *guardedClient
	http      webdav.HTTPClient // guard with authentication added
	log       *slog.Logger

	notifURLs sync.Map // resolved principal URL → notification collection path
	homes     sync.Map // resolved principal URL → []string, its calendar homes' paths (decoded)
	addrs     sync.Map // resolved principal URL → *addressSet, its calendar user addresses
	listings  listingCache
	inboxURLs sync.Map // resolved principal URL → its schedule-inbox-URL's path ("" when none)
	// noSyncInboxes holds the scheduling inboxes (resolved URL) whose
	// server refused sync-collection: InboxChanges lists them.
	noSyncInboxes sync.Map

	// now is the clock of the caches (time.Now; tests set it).
	now func() time.Time

	stats struct {
		propfind, report, get, delete, put, other atomic.Uint64
		connections, bytes                        atomic.Uint64
	}

	// syncLimit, when > 0, asks the server for at most that many results
	// per sync-collection REPORT (DAV:limit); tests use it to provoke 507
	// truncation on a real server.
	syncLimit int
	// maxObject bounds one calendar object's data in a MultiGet answer
	// (defaultMaxObjectBytes, at most MaxResponseBytes).
	maxObject int
	// multigetChunk is how many hrefs one calendar-multiget REPORT asks
	// for (multigetChunkSize; tests lower it).
	multigetChunk int
}

// New checks cfg and returns a Client for it. It sends nothing.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("caldav: BaseURL is required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("caldav: BaseURL: %w", err)
	}
	base.Scheme = strings.ToLower(base.Scheme)
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("caldav: BaseURL must be http or https, not %q", base.Scheme)
	}
	if base.Host == "" || base.Hostname() == "" {
		return nil, errors.New("caldav: BaseURL has no host")
	}
	if base.User != nil {
		return nil, errors.New("caldav: BaseURL must not carry credentials: use Username/Password or BearerToken")
	}
	if base.RawQuery != "" || base.Fragment != "" || base.ForceQuery {
		return nil, errors.New("caldav: BaseURL must not have a query or fragment")
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	if cfg.BearerToken != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, errors.New("caldav: set either Username/Password or BearerToken, not both")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("caldav: Password without Username")
	}
	if strings.Contains(cfg.Username, ":") {
		return nil, errors.New("caldav: a basic-auth Username cannot contain \":\"")
	}
	if strings.ContainsAny(cfg.BearerToken, "\r\n") || strings.ContainsAny(cfg.UserAgent, "\r\n") {
		return nil, errors.New("caldav: BearerToken and UserAgent must be one line")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = defaultMaxResponseBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = defaultUserAgent
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // an explicit, documented option
		MinVersion:         tls.VersionTLS12,
	}
	tr.MaxIdleConns = 64
	tr.MaxIdleConnsPerHost = 32
	if cfg.MaxConnections > 0 {
		tr.MaxConnsPerHost = cfg.MaxConnections
		tr.MaxIdleConnsPerHost = cfg.MaxConnections
	}
	tr.IdleConnTimeout = 90 * time.Second
	tr.ResponseHeaderTimeout = cfg.Timeout

	c := &Client{
		base:          base,
		origin:        originOf(base),
		maxBytes:      cfg.MaxResponseBytes,
		transport:     tr,
		log:           cfg.Logger,
		maxObject:     int(min(defaultMaxObjectBytes, cfg.MaxResponseBytes)),
		multigetChunk: multigetChunkSize,
		now:           time.Now,
	}
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.stats.connections.Add(1)
		return dial(ctx, network, addr)
	}
	c.guard = &guardedClient{
		c: c,
		hc: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// Redirects are followed by guardedClient itself: it keeps the
			// method and body (net/http turns a redirected PROPFIND into a
			// GET) and refuses other origins before sending anything.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: cfg.UserAgent,
	}
	switch {
	case cfg.BearerToken != "":
		c.http = &bearerAuthClient{c: c.guard, token: cfg.BearerToken}
	case cfg.Username != "":
		c.http = webdav.HTTPClientWithBasicAuth(c.guard, cfg.Username, cfg.Password)
	default:
		c.http = c.guard
	}
	return c, nil
}

// CloseIdleConnections closes the Client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Stats counts the HTTP requests a Client sent, by method. Redirect hops
// count as requests; requests refused before sending (ErrOffOrigin) do not.
type Stats struct {
	PropFind uint64 // PROPFIND requests
	Report   uint64 // REPORT requests
	Get      uint64 // GET requests
	Delete   uint64 // DELETE requests
	Put      uint64 // PUT requests
	Other    uint64 // any other method (POST, OPTIONS, …)
	// Connections is how many connections were opened (keep-alive
	// connections are reused; many more connections than requests in
	// flight mean they are not).
	Connections uint64
	// Bytes is how many bytes of response bodies were read.
	Bytes uint64
}

// Total is the number of requests of every method.
func (s Stats) Total() uint64 {
	return s.PropFind + s.Report + s.Get + s.Delete + s.Put + s.Other
}

// Stats returns the request counts since the Client was created.
func (c *Client) Stats() Stats {
	return Stats{
		PropFind:    c.stats.propfind.Load(),
		Report:      c.stats.report.Load(),
		Get:         c.stats.get.Load(),
		Delete:      c.stats.delete.Load(),
		Put:         c.stats.put.Load(),
		Other:       c.stats.other.Load(),
		Connections: c.stats.connections.Load(),
		Bytes:       c.stats.bytes.Load(),
	}
}

func (c *Client) count(method string) {
	switch method {
	case "PROPFIND":
		c.stats.propfind.Add(1)
	case "REPORT":
		c.stats.report.Add(1)
	case http.MethodGet:
		c.stats.get.Add(1)
	case http.MethodDelete:
		c.stats.delete.Add(1)
	case http.MethodPut:
		c.stats.put.Add(1)
	default:
		c.stats.other.Add(1)
	}
}

// originOf returns scheme://host:port with the default port made explicit
// and the host in lower case.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// resolve resolves ref (an href from the server or an argument) against
// from (the URL it was found in; the base URL when nil) and refuses it
// unless it stays on the base URL's origin (ErrOffOrigin) and its path has
// no dot segment left that the server could resolve elsewhere ("." or
// "..", percent-encoded or followed by ";…"; literal ones are resolved
// here).
func (c *Client) resolve(from *url.URL, ref string) (*url.URL, error) {
	u, err := c.resolveOrigin(from, ref)
	if err != nil {
		return nil, err
	}
	if unsafePath(u.EscapedPath(), false) {
		return nil, protoErrorf("href %q refused: it has a dot segment (\".\" or \"..\", encoded or with \";\" parameters)", ref)
	}
	return u, nil
}

// resolveOrigin is resolve without the dot-segment check.
func (c *Client) resolveOrigin(from *url.URL, ref string) (*url.URL, error) {
	if from == nil {
		from = c.base
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, protoErrorf("empty href")
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, protoErrorf("bad href %q: %v", ref, err)
	}
	u := from.ResolveReference(r)
	u.Fragment, u.RawFragment = "", ""
	if err := c.checkOrigin(u); err != nil {
		return nil, err
	}
	return u, nil
}

func (c *Client) checkOrigin(u *url.URL) error {
	if u.User != nil || u.Opaque != "" || originOf(u) != c.origin || u.Hostname() == "" {
		return fmt.Errorf("%w: %s (base %s)", ErrOffOrigin, redact(u), c.origin)
	}
	return nil
}

// redact returns u as a string without its userinfo.
func redact(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	v := *u
	v.User = nil
	return v.String()
}

// guardedClient is the only way requests leave a Client: it refuses
// off-origin URLs, sets the User-Agent, counts requests, caps response
// bodies and follows same-origin redirects. It implements
// webdav.HTTPClient, so go-webdav's own client runs through it too.
type guardedClient struct {
	c         *Client
	hc        *http.Client
	userAgent string
}

// Do sends req (and any same-origin redirects). The response body is
// capped at MaxResponseBytes: reading past it fails with ErrTooLarge.
func (g *guardedClient) Do(req *http.Request) (*http.Response, error) {
	if err := g.c.checkOrigin(req.URL); err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", g.userAgent)
	for hop := 0; ; hop++ {
		g.c.count(req.Method)
		resp, err := g.hc.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			if ctxErr := req.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
				return nil, fmt.Errorf("caldav: %s %s: %w", req.Method, redact(req.URL), err)
			}
			return nil, &transportError{method: req.Method, url: redact(req.URL), err: err}
		}
		next, err := g.redirect(req, resp, hop)
		if err != nil {
			drainClose(resp.Body)
			return nil, err
		}
		if next == nil {
			if resp.StatusCode/100 == 2 && resp.ContentLength > g.c.maxBytes {
				drainClose(resp.Body)
				return nil, fmt.Errorf("%w: %s %s: Content-Length %d > %d bytes", ErrTooLarge, req.Method, redact(req.URL), resp.ContentLength, g.c.maxBytes)
			}
			resp.Body = &cappedBody{rc: resp.Body, left: g.c.maxBytes, read: &g.c.stats.bytes}
			return resp, nil
		}
		drainClose(resp.Body)
		req = next
	}
}

// redirect returns the request to send for a redirect response, nil when
// resp is not a redirect to follow.
func (g *guardedClient) redirect(req *http.Request, resp *http.Response, hop int) (*http.Request, error) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, nil
	}
	method := req.Method
	if resp.StatusCode == http.StatusSeeOther && method != http.MethodGet && method != http.MethodHead {
		return nil, nil // 303 to a non-GET: report the status
	}
	target, err := g.c.resolve(req.URL, loc)
	if err != nil {
		if errors.Is(err, ErrOffOrigin) {
			return nil, fmt.Errorf("%s %s redirected: %w", req.Method, redact(req.URL), err)
		}
		return nil, err
	}
	if hop+1 > maxRedirects {
		return nil, protoErrorf("%s %s: more than %d redirects", req.Method, redact(req.URL), maxRedirects)
	}
	next := req.Clone(req.Context())
	next.URL = target
	next.Host = ""
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		next.Body = body
	} else if req.Body != nil && req.Body != http.NoBody {
		return nil, nil // the body cannot be replayed: report the status
	}
	return next, nil
}

// drainClose reads a little of body (so the connection can be reused) and
// closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}

// cappedBody fails with ErrTooLarge once more than left bytes are read.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
	read *atomic.Uint64 // counts the bytes read (Stats.Bytes), if not nil
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if b.read != nil {
		b.read.Add(uint64(n))
	}
	if int64(n) > b.left {
		b.err = ErrTooLarge
		return 0, ErrTooLarge
	}
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// bearerAuthClient adds "Authorization: Bearer …" to each request.
type bearerAuthClient struct {
	c     webdav.HTTPClient
	token string
}

func (b *bearerAuthClient) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.c.Do(req)
}
