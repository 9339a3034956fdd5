package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

type deadNotification struct {
	ID        string    `json:"id"`
	System    string    `json:"system"`
	Principal string    `json:"principal"`
	Href      string    `json:"href"`
	ETag      string    `json:"etag"`
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// seedDeadNotifications stores, for each (system, principal) pair, one
// notification set aside as dead and one delivered normally, one second
// apart, and returns the IDs of the dead ones, oldest first.
func (h *harness) seedDeadNotifications(t *testing.T, keys [][2]string) []string {
	t.Helper()
	ctx := context.Background()
	var dead []string
	for i, k := range keys {
		now := t0.Add(time.Duration(i) * time.Second)
		bad, good := digestID("bad", strconv.Itoa(i)), digestID("good", strconv.Itoa(i))
		rec := store.SyncRecord{System: k[0], Principal: k[1], Token: "tok", Now: now,
			Notifications: []store.NotificationRecord{
				{ID: bad, Href: k[1] + "/notifications/bad.xml", ETag: `"b"`, Type: "other", Parsed: []byte("{}"),
					Status: store.NotificationDead, Error: "not XML: EOF"},
				{ID: good, Href: k[1] + "/notifications/good.xml", ETag: `"g"`, Type: "reminder", Parsed: []byte("{}")},
			}}
		if err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error { _, err := store.RecordSync(ctx, tx, rec); return err }); err != nil {
			t.Fatal(err)
		}
		dead = append(dead, bad)
	}
	return dead
}

func (h *harness) listDeadNotifications(t *testing.T, query string) (items []deadNotification, next string) {
	t.Helper()
	res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-notifications?" + query, bearer: apiKey})
	if res.status != http.StatusOK {
		t.Fatalf("?%s: %d %s", query, res.status, res.body)
	}
	var page struct {
		Items      []deadNotification `json:"items"`
		NextCursor string             `json:"next_cursor"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items, page.NextCursor
}

// TestDeadNotifications lists the notifications set aside as dead (and
// only those), with their reason, filtered and page by page; the API key
// is required, and bad queries and an unavailable database are refused.
func TestDeadNotifications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if items, next := h.listDeadNotifications(t, ""); len(items) != 0 || next != "" {
		t.Fatalf("empty: %v %q", items, next)
	}
	dead := h.seedDeadNotifications(t, [][2]string{{sysCal, alice}, {sysCal, bob}, {sysOther, alice}})

	items, _ := h.listDeadNotifications(t, "")
	var got []string
	for _, n := range items {
		got = append(got, n.ID)
		if n.Reason != "not XML: EOF" || n.Type != "other" || n.ETag != `"b"` || n.Href != n.Principal+"/notifications/bad.xml" {
			t.Errorf("%+v", n)
		}
	}
	if !reflect.DeepEqual(got, dead) {
		t.Fatalf("ids %q, want the dead ones %q, oldest first", got, dead)
	}
	for query, want := range map[string][]string{
		"system=cal":                          {dead[0], dead[1]},
		"system=other":                        {dead[2]},
		"principal=" + url.QueryEscape(alice): {dead[0], dead[2]},
		"system=cal&principal=" + url.QueryEscape(bob): {dead[1]},
		"system=nowhere": nil,
	} {
		items, _ := h.listDeadNotifications(t, query)
		var got []string
		for _, n := range items {
			got = append(got, n.ID)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("?%s: %q, want %q", query, got, want)
		}
	}

	// Page by page.
	var paged []string
	for cursor, pages := "", 0; ; pages++ {
		q := "limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		items, next := h.listDeadNotifications(t, q)
		for _, n := range items {
			paged = append(paged, n.ID)
		}
		if next == "" {
			break
		}
		if cursor = next; pages > 3 {
			t.Fatal("pages without end")
		}
	}
	if !reflect.DeepEqual(paged, dead) {
		t.Errorf("paged %q, want %q", paged, dead)
	}

	for _, q := range []string{"limit=0", "cursor=c2hvcnQ", "principal=relative/path"} {
		if res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-notifications?" + q, bearer: apiKey}); res.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", q, res.status, res.body)
		}
	}
	if res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-notifications"}); res.status != http.StatusUnauthorized {
		t.Errorf("without a key: %d, want 401", res.status)
	}
	h.db.Close()
	if res := h.do(t, request{method: http.MethodGet, path: "/v1/dead-notifications", bearer: apiKey}); res.status != http.StatusServiceUnavailable {
		t.Errorf("database closed: %d %s, want 503", res.status, res.body)
	}
}

// seedDeadNotification stores, as the engine does, a notification of
// system set aside as dead, and returns its ID.
func (h *harness) seedDeadNotification(t *testing.T, system, name string) string {
	t.Helper()
	ctx := context.Background()
	id := digestID("deadn", system, name)
	rec := store.SyncRecord{System: system, Principal: alice, Token: "tok", Now: time.Now(),
		Notifications: []store.NotificationRecord{{ID: id, Href: alice + "/notifications/" + name + ".xml", ETag: `"1"`,
			Type: "other", Parsed: []byte("{}"), Status: store.NotificationDead, Error: "not XML: EOF"}}}
	if err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error { _, err := store.RecordSync(ctx, tx, rec); return err }); err != nil {
		t.Fatal(err)
	}
	return id
}

// An operator retries one dead notification and discards another: the
// retry answers it as it was (202) and the discard 204, each recorded in
// the audit trail as done by the key, with the state before and after;
// the discarded one leaves the list, and neither can be done twice
// (409), nor to what does not exist (404).
func TestRetryAndDiscardDeadNotifications(t *testing.T) {
	h := newHarness(t)
	retried := h.seedDeadNotification(t, sysCal, "r")
	discarded := h.seedDeadNotification(t, sysCal, "d")

	res := h.do(t, request{method: http.MethodPost, path: "/v1/dead-notifications/" + retried + "/retry", bearer: apiKey})
	var got deadNotification
	if res.status != http.StatusAccepted || json.Unmarshal(res.body, &got) != nil || got.ID != retried || got.Reason != "not XML: EOF" {
		t.Fatalf("retry: %d %s", res.status, res.body)
	}
	if res := h.do(t, request{method: http.MethodDelete, path: "/v1/dead-notifications/" + discarded, bearer: apiKey}); res.status != http.StatusNoContent {
		t.Fatalf("discard: %d %s", res.status, res.body)
	}
	if res := h.do(t, request{method: http.MethodDelete, path: "/v1/dead-notifications/" + discarded, bearer: apiKey}); res.status != http.StatusConflict {
		t.Errorf("discard again: %d %s, want 409", res.status, res.body)
	}
	if res := h.do(t, request{method: http.MethodPost, path: "/v1/dead-notifications/" + discarded + "/retry", bearer: apiKey}); res.status != http.StatusConflict {
		t.Errorf("retry of a discarded one: %d %s, want 409", res.status, res.body)
	}
	for _, m := range []string{http.MethodDelete, http.MethodPost} {
		path := "/v1/dead-notifications/none"
		if m == http.MethodPost {
			path += "/retry"
		}
		if res := h.do(t, request{method: m, path: path, bearer: apiKey}); res.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", m, path, res.status)
		}
	}
	items, _ := h.listDeadNotifications(t, "")
	if len(items) != 1 || items[0].ID != retried {
		t.Errorf("dead notifications %+v, want the retried one only (dead until its job replaces it)", items)
	}

	ctx := context.Background()
	entries, err := h.db.AuditEntries(ctx, store.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.ResourceType != store.AuditNotification {
			continue
		}
		actions = append(actions, e.Action+" "+e.ResourceID+" "+e.Actor.Kind+" "+e.System+" "+string(e.Before)+" "+string(e.After))
	}
	want := []string{
		store.ActionDeadNotificationRetried + " " + retried + " api_key " + sysCal +
			` {"status":"dead","reason":"not XML: EOF"} {"status":"retry_queued","reason":"not XML: EOF"}`,
		store.ActionDeadNotificationDiscarded + " " + discarded + " api_key " + sysCal +
			` {"status":"dead","reason":"not XML: EOF"} {"status":"done","reason":"discarded by an operator; it was dead: not XML: EOF"}`,
	}
	if !reflect.DeepEqual(actions, want) {
		t.Errorf("audit:\n got %q\nwant %q", actions, want)
	}
}

// With the database gone, retrying or discarding a dead notification is
// unavailable (503).
func TestDeadNotificationChangesUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedDeadNotification(t, sysCal, "gone")
	h.db.Close()
	for _, r := range []request{
		{method: http.MethodPost, path: "/v1/dead-notifications/" + id + "/retry", bearer: apiKey},
		{method: http.MethodDelete, path: "/v1/dead-notifications/" + id, bearer: apiKey},
	} {
		res := h.do(t, r)
		if res.status != http.StatusServiceUnavailable || res.problem(t).Type != typeUnavailable {
			t.Errorf("%s %s: %d %s, want 503", r.method, r.path, res.status, res.body)
		}
	}
}
