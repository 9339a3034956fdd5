package console

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// Keys of the test identities.
const (
	adminKey    = "admin-key-0123456789"
	operatorKey = "operator-key-0123456789" // scoped to system cal
	viewerKey   = "viewer-key-0123456789"
	opsKey      = "ops-key-0123456789" // an operator of every system
)

// harness is a console over a real SQLite store holding two systems:
// wilma of cal (an email failed with 550, an email sent) and fred of
// hosp (an email failed).
type harness struct {
	t       *testing.T
	db      *store.DB
	subs    *subscriptions.Service
	srv     *httptest.Server
	logs    *syncBuffer
	retried *recorder
	clock   *clock
	// Subscriptions and deliveries by name.
	wilmaSub, fredSub                *notifyd.Subscription
	wilmaFailed, wilmaSent, fredFail string
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// recorder is a Retrier that requeues through the store's own function.
type recorder struct {
	db  *store.DB
	mu  sync.Mutex
	ids []string
}

func (r *recorder) RetryDelivery(ctx context.Context, id string) (*store.DeliveryRecord, error) {
	var d *store.DeliveryRecord
	err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) (err error) {
		d, err = store.RequeueDelivery(ctx, tx, id, time.Now())
		return err
	})
	if err == nil {
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
	}
	return d, err
}

// RetryNotification is the engine's, without its job.
func (r *recorder) RetryNotification(ctx context.Context, id string) (*store.NotificationRecord, error) {
	var n *store.NotificationRecord
	err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) (err error) {
		n, err = store.RetryDeadNotification(ctx, tx, id, time.Now())
		return err
	})
	if err == nil {
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
	}
	return n, err
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(filepath.Join(t.TempDir(), "data", "notifyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, logs: &syncBuffer{}, retried: &recorder{db: db},
		clock: &clock{now: time.Now().UTC().Truncate(time.Second)}}
	h.subs = subscriptions.NewService(db, func(s string) bool { return s == "cal" || s == "hosp" })
	h.wilmaSub = h.subscribe("cal", "/principals/wilma/", "wilma@example.org")
	h.fredSub = h.subscribe("hosp", "/principals/fred/", "fred@example.org")
	h.wilmaFailed = h.delivery(h.wilmaSub, "n1", store.DeliveryFailed, "550 5.1.1 mailbox unavailable")
	h.wilmaSent = h.delivery(h.wilmaSub, "n2", store.DeliverySent, "")
	h.fredFail = h.delivery(h.fredSub, "n3", store.DeliveryFailed, "550 5.1.1 no such user")

	ids := map[string]Identity{
		adminKey:    {Name: "admin", Role: RoleAdmin},
		operatorKey: {Name: "campus-operator", Role: RoleOperator, Systems: []string{"cal"}},
		viewerKey:   {Name: "auditor", Role: RoleViewer},
		opsKey:      {Name: "ops", Role: RoleOperator},
	}
	preview, err := NewPreviewer("", 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{
		Authenticate: func(k string) (Identity, bool) { id, ok := ids[k]; return id, ok },
		// As notifyd wires it (cmd/notifyd's consoleAudit): changes are
		// the signed-in key's, as the API's are.
		Audit: func(ctx context.Context, who Identity) context.Context {
			return store.WithAudit(ctx, store.Audit{Actor: store.AuditActor{Kind: store.ActorKindAPIKey, Name: who.Name}})
		},
		Systems:       []string{"cal", "hosp"},
		Store:         db,
		Backlog:       db.Backlog,
		Subscriptions: h.subs,
		Retrier:       h.retried,
		Previewer:     preview,
		SessionKey:    bytes.Repeat([]byte{7}, 32),
		IdleTimeout:   30 * time.Minute,
		Lifetime:      12 * time.Hour,
		Now:           h.clock.Now,
		Logger:        slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(c)
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		if strings.Contains(h.logs.String(), "console: template") {
			t.Errorf("a page's template failed:\n%s", h.logs)
		}
	})
	return h
}

func (h *harness) subscribe(system, principal, address string) *notifyd.Subscription {
	h.t.Helper()
	w, err := h.subs.Create(context.Background(), subscriptions.Input{System: system, Principal: principal,
		Locale: "fr", TimeZone: "Europe/Paris",
		Methods: []subscriptions.MethodInput{{Channel: notifyd.ChannelEmail, Address: address}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return w.Subscription
}

// delivery stores a share invitation of sub's and its email delivery in
// status, and returns the delivery's ID.
func (h *harness) delivery(sub *notifyd.Subscription, nid, status, reason string) string {
	h.t.Helper()
	ctx := context.Background()
	parsed, _ := json.Marshal(notifyd.Notification{Type: notifyd.TypeShareInvite, UID: nid,
		From:     notifyd.Person{Href: "/principals/fred/", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/calendars/fred/work/", DisplayName: "Quarry shifts"}, Access: "read-write"})
	id := "d-" + nid
	now := time.Now()
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		_, err := store.RecordSync(ctx, tx, store.SyncRecord{System: sub.System, Principal: sub.Principal, Token: nid, Now: now,
			Notifications: []store.NotificationRecord{{ID: nid, Href: "/n/" + nid + ".xml", ETag: `"1"`, Type: string(notifyd.TypeShareInvite), Parsed: parsed}},
			Deliveries: []store.DeliveryRecord{{ID: id, NotificationID: nid, SubscriptionID: sub.ID, MethodID: sub.Methods[0].ID,
				Channel: "email", Address: sub.Methods[0].Address}}})
		if err != nil {
			return err
		}
		_, err = store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: id, Status: status, Error: reason, Now: now,
			ProviderID: map[bool]string{true: "<notifyd." + id + "@example.org>"}[status == store.DeliverySent]})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// browser is a client with its own cookies that does not follow
// redirects.
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// response is an answer, its body read.
type response struct {
	*http.Response
	Body string
}

func (b *browser) do(method, path string, form url.Values, header ...string) response {
	b.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.h.srv.URL+path, body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{resp, string(raw)}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the form token of a page.
func csrf(t *testing.T, r response) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", r.Body)
	}
	return m[1]
}

// signIn signs in with key and returns the session's CSRF token.
func (b *browser) signIn(key string) string {
	b.h.t.Helper()
	page := b.get("/console/login")
	r := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(b.h.t, page)}, "key": {key}})
	if r.StatusCode != http.StatusSeeOther {
		b.h.t.Fatalf("sign in: %d\n%s", r.StatusCode, r.Body)
	}
	return csrf(b.h.t, b.get("/console/deliveries"))
}

// status is a delivery's stored status.
func (h *harness) status(id string) string {
	h.t.Helper()
	d, err := h.db.Delivery(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return d.Status
}
