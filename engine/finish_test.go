package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/store"
)

// The after-delivery policy deletes or marks only what came from the
// principal's notification collection. A notification from elsewhere,
// here a change found by syncing a calendar (its href the calendar
// object, as the calendar sync's notifications have), stays on the
// server as it is, under delete and under mark.
func TestPolicyTouchesOnlyTheNotificationCollection(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{engine.PolicyDelete, engine.PolicyMark} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t, policy)
			r.invite(t, "wilma@example.org")
			r.settle(t)
			touched := func() int { return r.dav.count("DELETE") + r.dav.count("PUT") }
			if touched() != 1 {
				t.Fatalf("the invite from the collection: %d DELETE and PUT, want 1", touched())
			}
			gets := r.dav.count("GET")
			subs, err := r.subs.ForPrincipal(ctx, "cal", principal)
			if err != nil || len(subs) != 1 {
				t.Fatalf("subscriptions %v, %v", subs, err)
			}
			const href = "/dav/calendars/user/wilma/Default/e1.ics"
			r.dav.locked(func() {
				r.dav.resources[href] = fakeResource{body: []byte("BEGIN:VCALENDAR"), etag: `"e1"`, version: 0}
			})
			parsed, _ := json.Marshal(notifyd.Notification{Type: notifyd.TypeEventModified, UID: "e1", Summary: "Standup"})
			n := store.NotificationRecord{ID: "calendar-change-1", Href: href, ETag: `"e1"`, Type: string(notifyd.TypeEventModified), Parsed: parsed}
			m := subs[0].Methods[0]
			d := store.DeliveryRecord{ID: "calendar-change-1-email", NotificationID: n.ID, SubscriptionID: subs[0].ID, MethodID: m.ID,
				Channel: string(m.Channel), Address: m.Address}
			if err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
				_, err := store.AddNotifications(ctx, tx, "cal", principal, []store.NotificationRecord{n}, []store.DeliveryRecord{d}, time.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if err := r.eng.InsertDeliverJobsForTest(ctx, []string{d.ID}, notifyd.ChannelEmail); err != nil {
				t.Fatal(err)
			}
			var got *store.NotificationRecord
			r.waitUntil(t, "the calendar change finished", func() bool {
				got, err = r.db.Notification(ctx, n.ID)
				return err == nil && got.Status == store.NotificationDone
			})
			if touched() != 1 || r.dav.count("GET") != gets {
				t.Errorf("the policy reached the calendar: DELETE %d, PUT %d, GET %d", r.dav.count("DELETE"), r.dav.count("PUT"), r.dav.count("GET"))
			}
			r.dav.locked(func() {
				if _, ok := r.dav.resources[href]; !ok {
					t.Error("the calendar object is gone")
				}
			})
			if got.Error != "kept: not a resource of the principal's notification collection" {
				t.Errorf("note %q", got.Error)
			}
		})
	}
}
