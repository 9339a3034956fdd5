package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// fakeRetrier is the engine's RetryDelivery without the engine: the
// harness runs no workers, so it requeues the delivery and queues no job.
// It answers, as the engine does, the delivery as the requeue left it.
type fakeRetrier struct{ db *store.DB }

func (f fakeRetrier) RetryDelivery(ctx context.Context, id string) (*store.DeliveryRecord, error) {
	var d *store.DeliveryRecord
	err := f.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		d, err = store.RequeueDelivery(ctx, tx, id, time.Now())
		return err
	})
	return d, err
}

// RetryNotification is the engine's, without its job.
func (f fakeRetrier) RetryNotification(ctx context.Context, id string) (*store.NotificationRecord, error) {
	var n *store.NotificationRecord
	err := f.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		n, err = store.RetryDeadNotification(ctx, tx, id, time.Now())
		return err
	})
	return n, err
}

// dead is one seeded delivery of the dead-letter tests.
type dead struct {
	id, system, principal, channel, status string
}

// seedDeadLetters writes, as the engine does, one notification per entry
// of spec, created a second apart, each with one delivery ending in the
// given status, and returns the deliveries in creation order.
func (h *harness) seedDeadLetters(t *testing.T, spec []dead) []dead {
	t.Helper()
	ctx := context.Background()
	var out []dead
	for i, d := range spec {
		n := "dl" + strconv.Itoa(i)
		nid := digestID(n)
		addr := map[string]string{"email": "x@example.org", "sms": "+14155550100", "im": "x@im.example.org", "webhook": "https://hooks.example.org/x"}[d.channel]
		d.id = digestID(n, d.channel, addr)
		now := t0.Add(time.Duration(i) * time.Second)
		rec := store.SyncRecord{System: d.system, Principal: d.principal, Token: "tok", Now: now,
			Notifications: []store.NotificationRecord{{ID: nid, Href: d.principal + "/notifications/" + n + ".xml", ETag: `"1"`, Type: "reminder", Parsed: []byte("{}")}},
			Deliveries: []store.DeliveryRecord{{ID: d.id, NotificationID: nid, SubscriptionID: "0190a3c4-0000-7000-8000-000000000001",
				MethodID: "m_" + digestID(d.channel, addr)[:16], Channel: d.channel, Address: addr}}}
		err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
			if _, err := store.RecordSync(ctx, tx, rec); err != nil {
				return err
			}
			if d.status == store.DeliveryQueued {
				return nil
			}
			_, err := store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: d.id, Status: d.status,
				Error: "550 5.1.1 no such user", Now: now.Add(time.Millisecond)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

var deadSpec = []dead{
	{system: sysCal, principal: alice, channel: "email", status: store.DeliveryFailed},
	{system: sysCal, principal: alice, channel: "sms", status: store.DeliverySent},
	{system: sysCal, principal: bob, channel: "sms", status: store.DeliveryFailed},
	{system: sysOther, principal: alice, channel: "webhook", status: store.DeliveryFailed},
	{system: sysCal, principal: bob, channel: "email", status: store.DeliveryQueued},
	{system: sysOther, principal: bob, channel: "email", status: store.DeliveryFailed},
	{system: sysCal, principal: alice, channel: "im", status: store.DeliverySkipped},
}

func (h *harness) listDeadLetters(t *testing.T, query string) deliveryList {
	t.Helper()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-letters?" + query, bearer: apiKey})
	if res.status != http.StatusOK {
		t.Fatalf("GET /v1/dead-letters?%s: %d %s", query, res.status, res.body)
	}
	var page deliveryList
	res.decode(t, &page)
	if page.Items == nil {
		t.Fatalf("no items array: %s", res.body)
	}
	return page
}

func deadIDs(ds []dead, keep func(dead) bool) []string {
	out := []string{}
	for _, d := range ds {
		if d.status == store.DeliveryFailed && keep(d) {
			out = append(out, d.id)
		}
	}
	return out
}

func TestDeadLettersRequireAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeadLetters(t, deadSpec)
	id := all[0].id
	for _, r := range []request{
		{method: http.MethodGet, path: "/v1/dead-letters"},
		{method: http.MethodPost, path: "/v1/dead-letters/" + id + "/retry"},
		{method: http.MethodDelete, path: "/v1/dead-letters/" + id},
		{method: http.MethodGet, path: "/v1/dead-letters", bearer: tokenCal},
		{method: http.MethodPost, path: "/v1/dead-letters/" + id + "/retry", bearer: "not-a-key"},
		{method: http.MethodDelete, path: "/v1/dead-letters/" + id, bearer: apiKey + "x"},
	} {
		res := h.do(t, r)
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s %s: %d, want 401", r.method, r.path, res.status)
			continue
		}
		if p := res.problem(t); p.Type != typeUnauthorized {
			t.Errorf("%s %s: %s", r.method, r.path, res.body)
		}
	}
	// Nothing changed.
	if got := ids(h.listDeadLetters(t, "").Items); !reflect.DeepEqual(got, deadIDs(all, func(dead) bool { return true })) {
		t.Errorf("after refused calls: %q", got)
	}
}

func TestDeadLettersList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-letters", bearer: apiKey}); res.status != 200 || string(res.body) != `{"items":[]}` {
		t.Errorf("empty: %d %s", res.status, res.body)
	}
	all := h.seedDeadLetters(t, deadSpec)
	page := h.listDeadLetters(t, "")
	if got, want := ids(page.Items), deadIDs(all, func(dead) bool { return true }); !reflect.DeepEqual(got, want) {
		t.Fatalf("ids %q, want %q (failed only, oldest first)", got, want)
	}
	for _, d := range page.Items {
		if d.Status != store.DeliveryFailed || d.Attempts != 1 || d.LastError != "550 5.1.1 no such user" || d.Notification.Type != "reminder" {
			t.Errorf("%+v", d)
		}
	}
	for _, tt := range []struct {
		query string
		keep  func(dead) bool
	}{
		{"system=cal", func(d dead) bool { return d.system == sysCal }},
		{"system=nowhere", func(dead) bool { return false }},
		{"principal=" + url.QueryEscape("/p/%7ealice"), func(d dead) bool { return d.principal == alice }},
		{"principal=" + url.QueryEscape("/p/b%c3%b6b"), func(d dead) bool { return d.principal == bob }},
		{"channel=email", func(d dead) bool { return d.channel == "email" }},
		{"channel=sms", func(d dead) bool { return d.channel == "sms" }},
		{"channel=im", func(dead) bool { return false }},
		{"system=other&channel=email", func(d dead) bool { return d.system == sysOther && d.channel == "email" }},
		{"system=cal&principal=" + url.QueryEscape(bob) + "&channel=sms", func(d dead) bool {
			return d.system == sysCal && d.principal == bob && d.channel == "sms"
		}},
	} {
		if got, want := ids(h.listDeadLetters(t, tt.query).Items), deadIDs(all, tt.keep); !reflect.DeepEqual(got, want) {
			t.Errorf("?%s: %q, want %q", tt.query, got, want)
		}
	}
}

func TestDeadLettersPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeadLetters(t, deadSpec)
	want := deadIDs(all, func(dead) bool { return true })
	for limit := 1; limit <= len(want)+1; limit++ {
		var got []string
		cursor, pages := "", 0
		for {
			q := "limit=" + strconv.Itoa(limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			page := h.listDeadLetters(t, q)
			pages++
			if len(page.Items) > limit {
				t.Fatalf("?%s: %d items", q, len(page.Items))
			}
			got = append(got, ids(page.Items)...)
			if page.NextCursor == nil {
				break
			}
			if pages > len(want)+1 {
				t.Fatalf("limit %d: endless pages", limit)
			}
			cursor = *page.NextCursor
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: %q, want %q", limit, got, want)
		}
		if wantPages := max(1, (len(want)+limit-1)/limit); pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
}

func TestDeadLettersBadQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedDeadLetters(t, deadSpec)
	for _, tt := range []struct{ query, field string }{
		{"channel=fax", "query.channel"},
		{"channel=", "query.channel"},
		{"limit=0", "query.limit"},
		{"limit=501", "query.limit"},
		{"cursor=c2hvcnQ", "query.cursor"},
		{"principal=relative/path", "query.principal"},
		{"system=" + strings.Repeat("s", 65), "query.system"},
	} {
		res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-letters?" + tt.query, bearer: apiKey})
		if res.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", tt.query, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation || !reflect.DeepEqual(p.fields(), []string{tt.field}) {
			t.Errorf("?%s: fields %q, want [%s]: %s", tt.query, p.fields(), tt.field, res.body)
		}
	}
}

func TestDeadLetterRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeadLetters(t, deadSpec)
	target := all[2] // failed sms of bob
	// One delivery is queued; the others are final, their notifications
	// settled, with the after-delivery policy to apply.
	backlog := func(work string) string { return `notifyd_backlog{work="` + work + `"}` }
	for work, want := range map[string]float64{"syncs": 0, "deliveries": 1, "policies": 6} {
		if got, ok := h.metrics(t)[backlog(work)]; !ok || got != want {
			t.Errorf("before the retry %s = %v (present %v), want %v", backlog(work), got, ok, want)
		}
	}
	res := h.do(t, request{method: http.MethodPost, path: "/v1/dead-letters/" + target.id + "/retry", bearer: apiKey})
	if res.status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.status, res.body)
	}
	var d delivery
	res.decode(t, &d)
	if d.ID != target.id || d.Status != store.DeliveryQueued || d.Attempts != 1 || d.LastError != "550 5.1.1 no such user" ||
		d.Channel != "sms" || d.Principal != bob || d.Notification.ID != digestID("dl2") || d.Notification.Type != "reminder" {
		t.Errorf("retried: %+v", d)
	}
	// No longer a dead letter; queued in the log.
	if got := ids(h.listDeadLetters(t, "").Items); slices.Contains(got, target.id) {
		t.Errorf("still listed: %q", got)
	}
	if got := ids(h.listDeliveries(t, "status=queued").Items); !slices.Contains(got, target.id) {
		t.Errorf("not queued in the log: %q", got)
	}
	if got := h.metrics(t)[backlog("deliveries")]; got != 2 {
		t.Errorf("after the retry %s = %v, want 2", backlog("deliveries"), got)
	}
	// Not failed any more: 409, as for deliveries never failed.
	for _, id := range []string{target.id, all[1].id, all[4].id, all[6].id} {
		res := h.do(t, request{method: http.MethodPost, path: "/v1/dead-letters/" + id + "/retry", bearer: apiKey})
		if res.status != http.StatusConflict {
			t.Errorf("retry %s: %d %s, want 409", id, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != "urn:notifyd:problem:conflict" {
			t.Errorf("retry %s: %s", id, res.body)
		}
	}
	for _, id := range []string{digestID("nothing"), "x"} {
		res := h.do(t, request{method: http.MethodPost, path: "/v1/dead-letters/" + id + "/retry", bearer: apiKey})
		if res.status != http.StatusNotFound || res.problem(t).Type != typeNotFound {
			t.Errorf("retry unknown %s: %d %s, want 404", id, res.status, res.body)
		}
	}
}

func TestDeadLetterDiscard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeadLetters(t, deadSpec)
	target := all[0]
	gauge := func(channel string) string { return `notifyd_dead_letters{channel="` + channel + `"}` }
	m := h.metrics(t)
	for ch, want := range map[string]float64{"email": 2, "sms": 1, "webhook": 1, "im": 0} {
		if got, ok := m[gauge(ch)]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", gauge(ch), got, ok, want)
		}
	}
	res := h.do(t, request{method: http.MethodDelete, path: "/v1/dead-letters/" + target.id, bearer: apiKey2})
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("discard: %d %s", res.status, res.body)
	}
	if got, want := ids(h.listDeadLetters(t, "").Items), deadIDs(all[1:], func(dead) bool { return true }); !reflect.DeepEqual(got, want) {
		t.Errorf("after discard: %q, want %q", got, want)
	}
	page := h.listDeliveries(t, "status=discarded")
	if len(page.Items) != 1 || page.Items[0].ID != target.id || page.Items[0].Status != store.DeliveryDiscarded || page.Items[0].LastError == "" {
		t.Errorf("discarded in the log: %+v", page.Items)
	}
	if got := h.metrics(t)[gauge("email")]; got != 1 {
		t.Errorf("after discard %s = %v, want 1", gauge("email"), got)
	}
	// Discarded is final: neither discard nor retry again.
	for _, r := range []request{
		{method: http.MethodDelete, path: "/v1/dead-letters/" + target.id, bearer: apiKey},
		{method: http.MethodPost, path: "/v1/dead-letters/" + target.id + "/retry", bearer: apiKey},
		{method: http.MethodDelete, path: "/v1/dead-letters/" + all[4].id, bearer: apiKey}, // queued
	} {
		res := h.do(t, r)
		if res.status != http.StatusConflict || res.problem(t).Type != "urn:notifyd:problem:conflict" {
			t.Errorf("%s %s: %d %s, want 409", r.method, r.path, res.status, res.body)
		}
	}
	res = h.do(t, request{method: http.MethodDelete, path: "/v1/dead-letters/" + digestID("nothing"), bearer: apiKey})
	if res.status != http.StatusNotFound || res.problem(t).Type != typeNotFound {
		t.Errorf("discard unknown: %d %s, want 404", res.status, res.body)
	}
}

// With the database gone, dead letters are unavailable (503).
func TestDeadLettersUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	all := h.seedDeadLetters(t, deadSpec)
	h.db.Close()
	for _, r := range []request{
		{method: http.MethodGet, path: "/v1/dead-letters", bearer: apiKey},
		{method: http.MethodPost, path: "/v1/dead-letters/" + all[0].id + "/retry", bearer: apiKey},
		{method: http.MethodDelete, path: "/v1/dead-letters/" + all[0].id, bearer: apiKey},
	} {
		res := h.do(t, r)
		if res.status != http.StatusServiceUnavailable || res.problem(t).Type != typeUnavailable {
			t.Errorf("%s %s: %d %s, want 503", r.method, r.path, res.status, res.body)
		}
	}
}
