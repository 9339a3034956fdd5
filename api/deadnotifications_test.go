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
