package console

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/store"
)

// deadNotification stores a notification of sub's system set aside as
// dead, and returns its ID.
func (h *harness) deadNotification(system, principal, name string) string {
	h.t.Helper()
	ctx := context.Background()
	id := "dead-" + name
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		_, err := store.RecordSync(ctx, tx, store.SyncRecord{System: system, Principal: principal, Token: name, Now: time.Now(),
			Notifications: []store.NotificationRecord{{ID: id, Href: "/n/" + name + ".xml", ETag: `"1"`, Type: "other",
				Parsed: []byte("{}"), Status: store.NotificationDead, Error: "not XML: EOF"}}})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// Dead notifications are retried or discarded, one or many, after a
// confirmation page that changes nothing; each outcome is shown, each
// change audited; a key scoped to another system changes nothing of
// theirs, and a viewer is refused.
func TestDeadNotificationsRetryAndDiscard(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.deadNotification("cal", "/principals/wilma/", "a")
	b := h.deadNotification("cal", "/principals/wilma/", "b")
	other := h.deadNotification("hosp", "/principals/fred/", "c")
	br := h.browser()
	token := br.signIn(adminKey)
	list := br.get("/console/dead-notifications")
	for _, id := range []string{a, b, other} {
		if !strings.Contains(list.Body, `name="id" value="`+id+`"`) {
			t.Fatalf("dead notifications page lacks a box for %s:\n%s", id, list.Body)
		}
	}
	ask := br.do(http.MethodPost, "/console/dead-notifications", url.Values{"csrf": {token}, "action": {"discard"}, "id": {a, b}})
	if ask.StatusCode != http.StatusOK || !strings.Contains(ask.Body, "Discard these notifications?") ||
		!strings.Contains(ask.Body, `name="confirm" value="yes"`) || len(deadIDs(t, h)) != 3 {
		t.Fatalf("confirmation: %d\n%s", ask.StatusCode, ask.Body)
	}
	done := br.do(http.MethodPost, "/console/dead-notifications", url.Values{"csrf": {token}, "action": {"discard"},
		"confirm": {"yes"}, "id": {a}})
	if done.StatusCode != http.StatusOK || !strings.Contains(done.Body, "Discarded") {
		t.Fatalf("discard: %d\n%s", done.StatusCode, done.Body)
	}
	retry := br.do(http.MethodPost, "/console/dead-notifications", url.Values{"csrf": {token}, "action": {"retry"},
		"confirm": {"yes"}, "id": {a, b}})
	if !strings.Contains(retry.Body, "Not dead any more") || !strings.Contains(retry.Body, "Queued to be fetched and read again") {
		t.Errorf("retry of a discarded one and a dead one:\n%s", retry.Body)
	}
	if got := deadIDs(t, h); len(got) != 2 || got[a] {
		t.Errorf("dead after: %v, want b (its retry queued) and c", got)
	}

	// The operator key is scoped to cal: fred's (hosp) is missing to it.
	op := h.browser()
	optoken := op.signIn(operatorKey)
	r := op.do(http.MethodPost, "/console/dead-notifications", url.Values{"csrf": {optoken}, "action": {"discard"},
		"confirm": {"yes"}, "id": {other}})
	if !strings.Contains(r.Body, "Not found") || !deadIDs(t, h)[other] {
		t.Errorf("a scoped key discarding another system's: %s", r.Body)
	}
	vw := h.browser()
	vtoken := vw.signIn(viewerKey)
	if r := vw.do(http.MethodPost, "/console/dead-notifications", url.Values{"csrf": {vtoken}, "action": {"discard"},
		"confirm": {"yes"}, "id": {other}}); r.StatusCode != http.StatusForbidden || !deadIDs(t, h)[other] {
		t.Errorf("a viewer's discard: %d", r.StatusCode)
	}

	entries, err := h.db.AuditEntries(ctx, store.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.ResourceType == store.AuditNotification {
			actions = append(actions, e.Action+" "+e.ResourceID)
		}
	}
	want := []string{store.ActionDeadNotificationDiscarded + " " + a, store.ActionDeadNotificationRetried + " " + b}
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit %v, want %v", actions, want)
	}
}

func deadIDs(t *testing.T, h *harness) map[string]bool {
	t.Helper()
	dead, err := h.db.DeadNotifications(context.Background(), store.NotificationFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range dead {
		out[n.ID] = true
	}
	return out
}
