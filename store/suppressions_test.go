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

// The console's listing: newest first, paged backwards, and an address
// looked up whole, however spelled, on either channel; a prefix of
// characters outside ASCII finds only its own addresses.
func TestSuppressionListNewestAndExact(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	for i, a := range []struct {
		ch   notifyd.Channel
		addr string
	}{
		{notifyd.ChannelEmail, "wilma@example.org"}, {notifyd.ChannelEmail, "wilma@example.org.uk"},
		{notifyd.ChannelSMS, "+14155550100"}, {notifyd.ChannelEmail, "wilma+cal@example.org"},
		{notifyd.ChannelEmail, "zoë@example.org"}, {notifyd.ChannelEmail, "zoe@example.org"}, {notifyd.ChannelEmail, "zp@example.org"},
	} {
		if _, _, err := db.AddSuppression(ctx, Suppression{Channel: a.ch, Address: a.addr, Reason: SuppressManual,
			CreatedAt: at.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f SuppressionFilter) string {
		t.Helper()
		var out []string
		f.Newest = true
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
				return strings.Join(out, " ")
			}
			f.AfterTime, f.AfterID = page[1].CreatedAt, page[1].ID
		}
	}
	for _, c := range []struct {
		f    SuppressionFilter
		want string
	}{
		{SuppressionFilter{}, "zp@example.org zoe@example.org zoë@example.org wilma+cal@example.org +14155550100 " +
			"wilma@example.org.uk wilma@example.org"},
		{SuppressionFilter{Address: " Wilma@Example.org "}, "wilma@example.org"},
		{SuppressionFilter{Address: "wilma@example.org", Channel: "email"}, "wilma@example.org"},
		{SuppressionFilter{Address: "wilma@example.org", Channel: "sms"}, ""},
		{SuppressionFilter{Address: "+14155550100"}, "+14155550100"},
		{SuppressionFilter{Address: "wilma"}, ""},
		{SuppressionFilter{AddressPrefix: "WILMA"}, "wilma+cal@example.org wilma@example.org.uk wilma@example.org"},
		{SuppressionFilter{AddressPrefix: "wilma@", Channel: "email"}, "wilma@example.org.uk wilma@example.org"},
		{SuppressionFilter{AddressPrefix: "zo"}, "zoe@example.org zoë@example.org"},
		{SuppressionFilter{AddressPrefix: "zoë"}, "zoë@example.org"},
		{SuppressionFilter{AddressPrefix: "+1"}, "+14155550100"},
		{SuppressionFilter{Channel: "sms"}, "+14155550100"},
		{SuppressionFilter{Channel: "email", Reason: SuppressStop}, ""},
	} {
		if got := list(c.f); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.f, got, c.want)
		}
	}
}

// prefixEnd bounds the strings that start with a prefix, in byte order.
func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ p, want string }{
		{"a", "b"}, {"wilma@", "wilmaA"}, {"zo\u00eb", "zo\u00ec"}, {"+1", "+2"}, {"a\uD7FF", "a\uE000"},
		{"a\U0010FFFF", "b"}, {"a\xff", "b"}, {"\U0010FFFF", ""},
	} {
		got, ok := prefixEnd(c.p)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q", c.p, got, ok, c.want)
		}
		for _, s := range []string{c.p, c.p + "\x00", c.p + "z@example.org", c.p + "\U0010FFFF"} {
			if ok && !(s >= c.p && s < got) {
				t.Errorf("%q starts with %q but is not below %q", s, c.p, got)
			}
		}
	}
}

// The console's searches of the suppression list read a page's worth,
// whatever the size of the list: an address (and, on SQLite, an address
// prefix) is looked up in the primary key; the whole list, a channel and
// a reason are read newest first in the time index, not sorted.
func TestSuppressionListPlans(t *testing.T) {
	onlySQLite(t, "SQLite's plans; PostgreSQL's are TestPostgresSuppressionPlans")
	db := migratedDB(t)
	for _, c := range []struct {
		f    SuppressionFilter
		want string
	}{
		{SuppressionFilter{Address: "wilma@example.org"}, "USING INDEX sqlite_autoindex_suppressions_1 (channel=? AND address=?)"},
		{SuppressionFilter{Address: "wilma@example.org", Reason: SuppressManual}, "(channel=? AND address=?)"},
		{SuppressionFilter{AddressPrefix: "wil"}, "USING INDEX sqlite_autoindex_suppressions_1 (channel=? AND address>? AND address<?)"},
		{SuppressionFilter{AddressPrefix: "wil", Channel: "email", Reason: SuppressManual}, "(channel=? AND address>? AND address<?)"},
		{SuppressionFilter{}, "SCAN suppressions USING INDEX suppressions_created"},
		{SuppressionFilter{Channel: "sms"}, "SCAN suppressions USING INDEX suppressions_created"},
		{SuppressionFilter{Reason: SuppressManual, AfterTime: at, AfterID: "x"}, "USING INDEX suppressions_created (created_at<?)"},
	} {
		f := c.f
		f.Newest, f.Limit = true, 50
		q, args := suppressionsQuery(f, false)
		plan := queryPlan(t, db, q, args...)
		if !strings.Contains(plan, c.want) {
			t.Errorf("%+v: plan\n%s\nwant %s", c.f, plan, c.want)
		}
		if c.f.Address == "" && c.f.AddressPrefix == "" && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%+v: sorts the list:\n%s", c.f, plan)
		}
	}
}

// On PostgreSQL an address is looked up in the primary key.
func TestPostgresSuppressionPlans(t *testing.T) {
	onlyPostgres(t, "PostgreSQL's plans")
	db := migratedDB(t)
	q, args := suppressionsQuery(SuppressionFilter{Address: "wilma@example.org", Newest: true, Limit: 50}, true)
	plan := pgExplain(t, db, q, args)
	if n, ok := plan.find(func(p pgPlan) bool { return p.Index == "suppressions_pkey" }); !ok ||
		!strings.Contains(n.IndexCond, "address") {
		t.Errorf("an address is not looked up in the primary key: %+v", plan)
	}
}
