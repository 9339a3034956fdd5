package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// An address is suppressed once, whatever the spelling and however often
// a bounce says so; the check finds it as the engine spells the address;
// removing it is audited, and the address can be sent to again.
func TestSuppressions(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	bounce := Suppression{Channel: notifyd.ChannelEmail, Address: "Wilma@Example.ORG", Reason: SuppressHardBounce,
		Detail: "550 5.1.1 <wilma@example.org>: user unknown", CreatedAt: at}
	var first *Suppression
	if err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		s, added, err := Suppress(ctx, tx, bounce)
		if err != nil || !added {
			t.Fatalf("Suppress = %v, %v", added, err)
		}
		first = s
		// The same address again, otherwise spelled: nothing changes.
		again := bounce
		again.Address, again.Reason, again.Detail = "wilma@example.org", SuppressComplaint, "abuse report"
		s, added, err = Suppress(ctx, tx, again)
		if err != nil || added || s.ID != first.ID || s.Reason != SuppressHardBounce {
			t.Errorf("second Suppress = %+v, %v, %v; want the first, not added", s, added, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if first.Address != "wilma@example.org" || first.Actor != ActorNotifyd || len(first.ID) != 32 {
		t.Errorf("stored %+v", first)
	}

	for _, addr := range []string{"wilma@example.org", "WILMA@example.org", "wilma@EXAMPLE.org"} {
		s, err := db.Suppressed(ctx, "email", addr)
		if err != nil || s == nil || s.Reason != SuppressHardBounce || s.Detail != bounce.Detail || !s.CreatedAt.Equal(at) {
			t.Errorf("Suppressed(%s) = %+v, %v", addr, s, err)
		}
	}
	for _, q := range [][2]string{{"email", "wilma+cal@example.org"}, {"email", "fred@example.org"}, {"sms", "wilma@example.org"},
		{"webhook", "https://example.org/"}} {
		if s, err := db.Suppressed(ctx, q[0], q[1]); err != nil || s != nil {
			t.Errorf("Suppressed(%s, %s) = %+v, %v; want none", q[0], q[1], s, err)
		}
	}

	actx := WithAudit(ctx, Audit{Actor: AuditActor{Kind: ActorKindAPIKey, Name: "ops"}})
	sms, added, err := db.AddSuppression(actx, Suppression{Channel: notifyd.ChannelSMS, Address: "+14155550100", Reason: SuppressStop,
		CreatedAt: at.Add(time.Second)})
	if err != nil || !added || sms.Actor.Name != "ops" {
		t.Fatalf("AddSuppression = %+v, %v, %v", sms, added, err)
	}
	if s, _ := db.Suppressed(ctx, "sms", "+14155550100"); s == nil {
		t.Error("the phone number is not suppressed")
	}

	for _, bad := range []Suppression{
		{Channel: notifyd.ChannelEmail, Address: "not an address", Reason: SuppressManual},
		{Channel: notifyd.ChannelSMS, Address: "4155550100", Reason: SuppressManual},
		{Channel: notifyd.ChannelIM, Address: "wilma@example.org", Reason: SuppressManual},
		{Channel: notifyd.ChannelEmail, Address: "x@example.org", Reason: "bored"},
	} {
		if _, _, err := db.AddSuppression(ctx, bad); err == nil {
			t.Errorf("AddSuppression(%+v) took it", bad)
		}
	}

	removed, err := db.RemoveSuppression(actx, notifyd.ChannelEmail, "WILMA@example.org")
	if err != nil || removed.ID != first.ID {
		t.Fatalf("RemoveSuppression = %+v, %v", removed, err)
	}
	if s, err := db.Suppressed(ctx, "email", "wilma@example.org"); err != nil || s != nil {
		t.Errorf("after removal: %+v, %v", s, err)
	}
	if _, err := db.RemoveSuppression(actx, notifyd.ChannelEmail, "wilma@example.org"); !errors.Is(err, notifyd.ErrNotFound) {
		t.Errorf("second removal: %v, want not found", err)
	}

	log, err := db.AuditEntries(ctx, AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.ResourceType == AuditSuppression {
			got = append(got, e.Action+" "+e.ResourceID+" by "+e.Actor.Name)
			if (e.Action == ActionSuppressionAdded) != (e.Before == nil && e.After != nil) {
				t.Errorf("%s: before %s, after %s", e.Action, e.Before, e.After)
			}
		}
	}
	want := "suppression.added email:wilma@example.org by notifyd|suppression.added sms:+14155550100 by ops|" +
		"suppression.removed email:wilma@example.org by ops"
	if strings.Join(got, "|") != want {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

// The list pages in the order added and filters by channel, reason and
// address prefix.
func TestSuppressionList(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	add := func(ch notifyd.Channel, addr, reason string, i int) {
		t.Helper()
		if _, _, err := db.AddSuppression(ctx, Suppression{Channel: ch, Address: addr, Reason: reason,
			CreatedAt: at.Add(time.Duration(i/2) * time.Second)}); err != nil { // pairs share a time: the ID orders them
			t.Fatal(err)
		}
	}
	add(notifyd.ChannelEmail, "a1@example.org", SuppressHardBounce, 0)
	add(notifyd.ChannelEmail, "a2@example.org", SuppressManual, 1)
	add(notifyd.ChannelSMS, "+14155550100", SuppressStop, 2)
	add(notifyd.ChannelEmail, "b1@example.net", SuppressHardBounce, 3)
	add(notifyd.ChannelEmail, "A3@example.org", SuppressHardBounce, 4)

	list := func(f SuppressionFilter) []string {
		t.Helper()
		var out []string
		for {
			f.Limit = 2
			page, err := db.Suppressions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				out = append(out, s.Address)
			}
			if len(page) < 2 {
				return out
			}
			f.AfterTime, f.AfterID = page[1].CreatedAt, page[1].ID
		}
	}
	for _, c := range []struct {
		f    SuppressionFilter
		want string
	}{
		{SuppressionFilter{}, "a1@example.org a2@example.org +14155550100 b1@example.net a3@example.org"},
		{SuppressionFilter{Channel: "sms"}, "+14155550100"},
		{SuppressionFilter{Reason: SuppressHardBounce}, "a1@example.org b1@example.net a3@example.org"},
		{SuppressionFilter{AddressPrefix: "A"}, "a1@example.org a2@example.org a3@example.org"},
		{SuppressionFilter{Channel: "email", Reason: SuppressHardBounce, AddressPrefix: "a"}, "a1@example.org a3@example.org"},
		{SuppressionFilter{AddressPrefix: "+1415"}, "+14155550100"},
		{SuppressionFilter{AddressPrefix: "%"}, ""},
	} {
		// Within a pair added at the same time the order is the IDs'.
		got := strings.Join(list(c.f), " ")
		if sortedWords(got) != sortedWords(c.want) || len(got) != len(c.want) {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// sortedWords is s's words, sorted: pairs added at the same time are
// listed in their (random) IDs' order.
func sortedWords(s string) string {
	w := strings.Fields(s)
	for i := range w {
		for j := i + 1; j < len(w); j++ {
			if w[j] < w[i] {
				w[i], w[j] = w[j], w[i]
			}
		}
	}
	return strings.Join(w, " ")
}
