package api_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// delivery is the API's Delivery. Times are kept as the strings sent.
type delivery struct {
	ID           string `json:"id"`
	Notification struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Href string `json:"href"`
	} `json:"notification"`
	System       string  `json:"system"`
	Principal    string  `json:"principal"`
	Subscription string  `json:"subscription_id"`
	Method       string  `json:"method_id"`
	Channel      string  `json:"channel"`
	Address      string  `json:"address"`
	Status       string  `json:"status"`
	Attempts     int     `json:"attempts"`
	LastError    string  `json:"last_error"`
	ProviderID   string  `json:"provider_id"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
	SentAt       *string `json:"sent_at"`
}

type deliveryList struct {
	Items      []delivery `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// Principals of the seeded log; bob's is stored in its normalised
// spelling, percent-encoded with upper-case hex.
const (
	alice = "/p/~alice"
	bob   = "/p/b%C3%B6b"
)

// seeded is one delivery as the log must show it.
type seeded struct {
	id, notification, typ, href string
	system, principal           string
	sub, method, channel, addr  string
	status                      string
	attempts                    int
	lastError                   string
	created, updated, sent      time.Time
}

// digestID makes a delivery ID as the engine does: 32 hex digits.
func digestID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

var (
	t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	t1 = t0.Add(90 * time.Second)
	t2 = t0.Add(5*time.Minute + 250*time.Microsecond)
)

// seedDeliveries writes, as the engine does, notifications of two systems
// and two principals and deliveries in every status, and returns the
// deliveries as the log must show them.
func (h *harness) seedDeliveries(t *testing.T) []seeded {
	t.Helper()
	ctx := context.Background()
	type note struct {
		system, principal, id, typ, href string
		deliveries                       []seeded
	}
	d := func(n, channel, addr, status string, attempts int, lastError string) seeded {
		s := seeded{id: digestID(n, channel, addr), channel: channel, addr: addr, status: status, attempts: attempts,
			lastError: lastError, sub: "0190a3c4-0000-7000-8000-00000000000" + string(n[len(n)-1]),
			method: "m_" + digestID(channel, addr)[:16]}
		return s
	}
	notes := []note{
		{sysCal, alice, digestID("n1"), "share-invite", alice + "/notifications/n1.xml", []seeded{
			d("n1", "email", "alice@example.org", store.DeliverySent, 2, ""),
			d("n1", "sms", "+14155550100", store.DeliveryFailed, 1, "550 5.1.1 no such user"),
			d("n1", "webhook", "https://hooks.example.org/a", store.DeliveryRetrying, 1, "503 from the webhook"),
		}},
		{sysCal, bob, digestID("n2"), "resource-change", bob + "/notifications/n2.xml", []seeded{
			d("n2", "email", "bob@example.org", store.DeliveryQueued, 0, ""),
			d("n2", "im", "bob@im.example.org", store.DeliverySkipped, 1, "the delivery method was disabled"),
		}},
		{sysOther, alice, digestID("n3"), "reminder", alice + "/notifications/n3.xml", []seeded{
			d("n3", "email", "alice@example.org", store.DeliverySent, 1, ""),
			d("n3", "sms", "+14155550100", store.DeliveryQueued, 0, ""),
		}},
	}
	var out []seeded
	for _, n := range notes {
		rec := store.SyncRecord{System: n.system, Principal: n.principal, Token: "tok", Now: t0,
			Notifications: []store.NotificationRecord{{ID: n.id, Href: n.href, ETag: `"1"`, Type: n.typ, Parsed: []byte("{}")}}}
		for _, s := range n.deliveries {
			rec.Deliveries = append(rec.Deliveries, store.DeliveryRecord{ID: s.id, NotificationID: n.id,
				SubscriptionID: s.sub, MethodID: s.method, Channel: s.channel, Address: s.addr})
		}
		err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			out, err := store.RecordSync(ctx, tx, rec)
			if err == nil && len(out.NewDeliveries) != len(n.deliveries) {
				t.Errorf("RecordSync created %d deliveries, want %d", len(out.NewDeliveries), len(n.deliveries))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range n.deliveries {
			s.notification, s.typ, s.href, s.system, s.principal = n.id, n.typ, n.href, n.system, n.principal
			s.created, s.updated = t0, t0
			// Attempts: those before the last fail temporarily.
			for i := 1; i <= s.attempts; i++ {
				o := store.DeliveryOutcome{ID: s.id, Status: store.DeliveryRetrying, Error: "421 try again later", Now: t1}
				if i == s.attempts {
					o = store.DeliveryOutcome{ID: s.id, Status: s.status, Error: s.lastError, Now: t2}
				}
				err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
					_, err := store.RecordDeliveryAttempt(ctx, tx, o)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				s.updated = o.Now
			}
			if s.status == store.DeliverySent {
				s.sent = t2
			}
			out = append(out, s)
		}
	}
	return out
}

// listDeliveries GETs /v1/deliveries?query and decodes the page.
func (h *harness) listDeliveries(t *testing.T, query string) deliveryList {
	t.Helper()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?" + query, bearer: apiKey})
	if res.status != http.StatusOK {
		t.Fatalf("GET /v1/deliveries?%s: %d %s", query, res.status, res.body)
	}
	var page deliveryList
	res.decode(t, &page)
	if page.Items == nil {
		t.Fatalf("GET /v1/deliveries?%s: no items array: %s", query, res.body)
	}
	return page
}

func ids(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func seededIDs(ss []seeded, keep func(seeded) bool) []string {
	var out []string
	for _, s := range ss {
		if keep(s) {
			out = append(out, s.id)
		}
	}
	sort.Strings(out)
	return out
}

func sortedIDs(ds []delivery) []string {
	out := ids(ds)
	sort.Strings(out)
	return out
}

func TestDeliveriesRequireAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedDeliveries(t)
	for name, hdr := range map[string]map[string]string{
		"no Authorization": nil,
		"wrong key":        {"Authorization": "Bearer not-a-key"},
		"ping token":       {"Authorization": "Bearer " + tokenCal},
		"key with suffix":  {"Authorization": "Bearer " + apiKey + "x"},
	} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries", header: hdr})
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, res.status)
			continue
		}
		if p := res.problem(t); p.Type != typeUnauthorized {
			t.Errorf("%s: %s", name, res.body)
		}
		if strings.Contains(string(res.body), "alice") {
			t.Errorf("%s: 401 leaks deliveries: %s", name, res.body)
		}
	}
	// Either configured key works.
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries", bearer: apiKey2})
	if res.status != http.StatusOK {
		t.Errorf("second key: %d %s", res.status, res.body)
	}
}

func TestDeliveriesEmpty(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, q := range []string{"", "system=" + sysCal, "status=failed&limit=1"} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?" + q, bearer: apiKey})
		if res.status != http.StatusOK || string(res.body) != `{"items":[]}` {
			t.Errorf("?%s: %d %s, want 200 {\"items\":[]}", q, res.status, res.body)
		}
	}
	// Seeded, a filter matching nothing is empty too.
	h.seedDeliveries(t)
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?system=prefixed", bearer: apiKey})
	if res.status != http.StatusOK || string(res.body) != `{"items":[]}` {
		t.Errorf("system=prefixed: %d %s", res.status, res.body)
	}
}

func TestDeliveriesFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	want := h.seedDeliveries(t)
	page := h.listDeliveries(t, "")
	if page.NextCursor != nil {
		t.Errorf("next_cursor %q on the only page", *page.NextCursor)
	}
	if got, w := sortedIDs(page.Items), seededIDs(want, func(seeded) bool { return true }); !reflect.DeepEqual(got, w) {
		t.Fatalf("ids %q, want %q", got, w)
	}
	byID := map[string]delivery{}
	for _, d := range page.Items {
		byID[d.ID] = d
	}
	at := func(t *testing.T, field, got string, want time.Time) {
		t.Helper()
		p, err := time.Parse(time.RFC3339Nano, got)
		if err != nil || !p.Equal(want) {
			t.Errorf("%s %q, want %s", field, got, want.Format(time.RFC3339Nano))
		}
	}
	for _, s := range want {
		t.Run(s.channel+" "+s.status, func(t *testing.T) {
			d := byID[s.id]
			if d.Notification.ID != s.notification || d.Notification.Type != s.typ || d.Notification.Href != s.href {
				t.Errorf("notification %+v, want {%s %s %s}", d.Notification, s.notification, s.typ, s.href)
			}
			if d.System != s.system || d.Principal != s.principal || d.Subscription != s.sub || d.Method != s.method {
				t.Errorf("system %q principal %q subscription_id %q method_id %q, want %q %q %q %q",
					d.System, d.Principal, d.Subscription, d.Method, s.system, s.principal, s.sub, s.method)
			}
			if d.Channel != s.channel || d.Address != s.addr || d.Status != s.status || d.Attempts != s.attempts || d.LastError != s.lastError {
				t.Errorf("channel %q address %q status %q attempts %d last_error %q, want %q %q %q %d %q",
					d.Channel, d.Address, d.Status, d.Attempts, d.LastError, s.channel, s.addr, s.status, s.attempts, s.lastError)
			}
			at(t, "created_at", d.CreatedAt, s.created)
			at(t, "updated_at", d.UpdatedAt, s.updated)
			if s.status == store.DeliverySent {
				if d.SentAt == nil {
					t.Errorf("sent without sent_at")
				} else {
					at(t, "sent_at", *d.SentAt, s.sent)
				}
			} else if d.SentAt != nil {
				t.Errorf("status %s with sent_at %q", d.Status, *d.SentAt)
			}
		})
	}
	// The raw JSON leaves sent_at out, rather than null or zero, unless sent.
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?status=queued", bearer: apiKey})
	if strings.Contains(string(res.body), "sent_at") {
		t.Errorf("queued deliveries with sent_at: %s", res.body)
	}
}

func TestDeliveriesFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeliveries(t)
	for _, tt := range []struct {
		query string
		keep  func(seeded) bool
	}{
		{"system=cal", func(s seeded) bool { return s.system == sysCal }},
		{"system=other", func(s seeded) bool { return s.system == sysOther }},
		{"system=nowhere", func(s seeded) bool { return false }},
		{"principal=" + url.QueryEscape(alice), func(s seeded) bool { return s.principal == alice }},
		// Other spellings of the same hrefs: %7E for "~", lower-case hex.
		{"principal=" + url.QueryEscape("/p/%7ealice"), func(s seeded) bool { return s.principal == alice }},
		{"principal=" + url.QueryEscape("/p/b%c3%b6b"), func(s seeded) bool { return s.principal == bob }},
		{"principal=" + url.QueryEscape(bob), func(s seeded) bool { return s.principal == bob }},
		{"principal=" + url.QueryEscape("/p/alice"), func(s seeded) bool { return false }},
		{"system=other&principal=" + url.QueryEscape(alice), func(s seeded) bool { return s.system == sysOther && s.principal == alice }},
		{"system=other&principal=" + url.QueryEscape(bob), func(s seeded) bool { return false }},
		{"status=queued", func(s seeded) bool { return s.status == store.DeliveryQueued }},
		{"status=retrying", func(s seeded) bool { return s.status == store.DeliveryRetrying }},
		{"status=sent", func(s seeded) bool { return s.status == store.DeliverySent }},
		{"status=failed", func(s seeded) bool { return s.status == store.DeliveryFailed }},
		{"status=skipped", func(s seeded) bool { return s.status == store.DeliverySkipped }},
		{"status=sent&system=cal", func(s seeded) bool { return s.status == store.DeliverySent && s.system == sysCal }},
		{"status=queued&system=cal&principal=" + url.QueryEscape(bob),
			func(s seeded) bool {
				return s.status == store.DeliveryQueued && s.system == sysCal && s.principal == bob
			}},
		{"channel=sms", func(s seeded) bool { return s.channel == "sms" }},
		{"address=alice%40example.org", func(s seeded) bool { return s.addr == "alice@example.org" }},
		{"address=alice%40example.org&system=other", func(s seeded) bool { return s.addr == "alice@example.org" && s.system == sysOther }},
		{"address=nobody%40example.org", func(s seeded) bool { return false }},
		{"type=reminder", func(s seeded) bool { return s.typ == "reminder" }},
		{"type=share-invite&channel=email", func(s seeded) bool { return s.typ == "share-invite" && s.channel == "email" }},
		{"from=" + url.QueryEscape(t0.Format(time.RFC3339Nano)), func(s seeded) bool { return true }},
		{"to=" + url.QueryEscape(t0.Format(time.RFC3339Nano)), func(s seeded) bool { return false }},
		{"from=" + url.QueryEscape(t0.Add(-time.Second).Format(time.RFC3339)) + "&to=" + url.QueryEscape(t0.Add(time.Second).Format(time.RFC3339)),
			func(s seeded) bool { return true }},
		{"from=" + url.QueryEscape(t0.Add(time.Microsecond).Format(time.RFC3339Nano)), func(s seeded) bool { return false }},
	} {
		want := seededIDs(all, tt.keep)
		got := sortedIDs(h.listDeliveries(t, tt.query).Items)
		if len(want) == 0 {
			want = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("?%s: %q, want %q", tt.query, got, want)
		}
	}
}

func TestDeliveriesBadQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedDeliveries(t)
	for _, tt := range []struct{ query, field string }{
		{"status=exploded", "query.status"},
		{"status=SENT", "query.status"},
		{"status=", "query.status"},
		{"limit=0", "query.limit"},
		{"limit=501", "query.limit"},
		{"limit=ten", "query.limit"},
		{"cursor=%21%21%21", "query.cursor"},                  // not base64
		{"cursor=c2hvcnQ", "query.cursor"},                    // base64 of "short"
		{"cursor=" + strings.Repeat("A", 65), "query.cursor"}, // longer than the contract allows
		{"principal=relative/path", "query.principal"},
		{"principal=" + url.QueryEscape("/p/../admin"), "query.principal"},
		{"system=" + strings.Repeat("s", 65), "query.system"},
		{"channel=fax", "query.channel"},
		{"from=yesterday", "query.from"},
		{"to=2026-02-30T00:00:00Z", "query.to"},
		{"from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "query.to"},
		{"address=" + strings.Repeat("a", 1025), "query.address"},
	} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries?" + tt.query, bearer: apiKey})
		if res.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", tt.query, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !reflect.DeepEqual(p.fields(), []string{tt.field}) {
			t.Errorf("?%s: fields %q, want [%s]: %s", tt.query, p.fields(), tt.field, res.body)
		}
	}
}

func TestDeliveriesPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeliveries(t)
	every := seededIDs(all, func(seeded) bool { return true })
	for _, tt := range []struct {
		query string
		keep  func(seeded) bool
		limit int
	}{
		{"", func(seeded) bool { return true }, 1},
		{"", func(seeded) bool { return true }, 3},
		{"", func(seeded) bool { return true }, len(all) - 1},
		{"", func(seeded) bool { return true }, len(all)},
		{"", func(seeded) bool { return true }, 500},
		{"system=cal&", func(s seeded) bool { return s.system == sysCal }, 2},
		{"principal=" + url.QueryEscape(alice) + "&", func(s seeded) bool { return s.principal == alice }, 2},
		{"status=queued&", func(s seeded) bool { return s.status == store.DeliveryQueued }, 1},
	} {
		want := seededIDs(all, tt.keep)
		var got []string
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			q := tt.query + "limit=" + strconv.Itoa(tt.limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			page := h.listDeliveries(t, q)
			pages++
			if len(page.Items) > tt.limit {
				t.Fatalf("?%s: %d items, over the limit", q, len(page.Items))
			}
			for _, id := range ids(page.Items) {
				if seen[id] {
					t.Errorf("?%s: %s on two pages", q, id)
				}
				seen[id] = true
				got = append(got, id)
			}
			if page.NextCursor == nil {
				break
			}
			if len(page.Items) != tt.limit {
				t.Errorf("?%s: a short page (%d) with a next_cursor", q, len(page.Items))
			}
			if *page.NextCursor == "" || pages > len(all)+1 {
				t.Fatalf("?%s: next_cursor %q after %d pages", q, *page.NextCursor, pages)
			}
			cursor = *page.NextCursor
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%slimit=%d: pages hold %q, want %q", tt.query, tt.limit, got, want)
		}
		if wantPages := max(1, (len(want)+tt.limit-1)/tt.limit); pages != wantPages {
			t.Errorf("%slimit=%d: %d pages, want %d (next_cursor must be absent on the last)", tt.query, tt.limit, pages, wantPages)
		}
	}

	// A cursor past the last delivery is an empty last page. (A cursor is
	// the creation time in unix microseconds and the ID of the last
	// delivery of the previous page.)
	last := every[len(every)-1]
	page := h.listDeliveries(t, "cursor="+base64.RawURLEncoding.EncodeToString([]byte("99999999999999999."+last)))
	if len(page.Items) != 0 || page.NextCursor != nil {
		t.Errorf("after the last: %+v", page)
	}
}

// With the database gone the log is unavailable (503), not empty.
func TestDeliveriesUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedDeliveries(t)
	h.db.Close()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/deliveries", bearer: apiKey})
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d %s, want 503", res.status, res.body)
	}
	if p := res.problem(t); p.Type != typeUnavailable {
		t.Errorf("%s", res.body)
	}
}
