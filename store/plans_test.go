package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
)

// hotPaths runs once what notifyd does to the store for a new principal
// p of system "cal": the ping, the sync, the deliveries and a provider's
// report, the sweep and the after-delivery policy, an operator's work on a
// dead letter, and the listings of the API and the console.
func hotPaths(t *testing.T, db *DB, p string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inTx := func(fn func(*sql.Tx) error) { t.Helper(); must(db.Write(ctx, Durable, fn)) }
	sub := &notifyd.Subscription{ID: "s" + p, System: "cal", Principal: p, Enabled: true, Locale: "en", TimeZone: "UTC",
		Methods: []notifyd.DeliveryMethod{
			{ID: "m1", Channel: notifyd.ChannelEmail, Address: "a@example.org", Enabled: true},
			{ID: "m2", Channel: notifyd.ChannelSMS, Address: "+15550100", Enabled: true},
		}, CreatedAt: now}
	must(db.CreateSubscription(ctx, sub))

	inTx(func(tx *sql.Tx) error { _, err := MarkDirty(ctx, tx, []PrincipalKey{{"cal", p}}, now); return err })

	_, err := db.Principal(ctx, "cal", p)
	must(err)
	_, err = db.Subscriptions(ctx, notifyd.SubscriptionFilter{System: "cal", Principal: p, Limit: 100})
	must(err)
	n1, n2 := p+"n1", p+"n2"
	_, err = db.KnownNotifications(ctx, []string{n1, n2})
	must(err)
	email1, sms1, email2 := p+"d1", p+"d2", p+"d3"
	inTx(func(tx *sql.Tx) error {
		_, err := RecordSync(ctx, tx, SyncRecord{System: "cal", Principal: p, Token: "t", SyncedGen: 1, Now: now,
			Notifications: []NotificationRecord{
				{ID: n1, Href: p + "1.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
				{ID: n2, Href: p + "2.xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")},
			},
			Deliveries: []DeliveryRecord{
				{ID: email1, NotificationID: n1, SubscriptionID: sub.ID, MethodID: "m1", Channel: "email", Address: "a@example.org"},
				{ID: sms1, NotificationID: n1, SubscriptionID: sub.ID, MethodID: "m2", Channel: "sms", Address: "+15550100"},
				{ID: email2, NotificationID: n2, SubscriptionID: sub.ID, MethodID: "m1", Channel: "email", Address: "a@example.org"},
			}})
		return err
	})

	_, _, err = db.DeliveriesToSend(ctx, []string{email1, sms1, email2})
	must(err)
	inTx(func(tx *sql.Tx) error {
		for _, o := range []DeliveryOutcome{
			{ID: email1, Status: DeliverySent, ProviderID: "<" + p + "@example.org>", Now: now},
			{ID: sms1, Status: DeliverySent, ProviderID: "SM" + p, Now: now},
			{ID: email2, Status: DeliveryFailed, Error: "550", Now: now},
		} {
			if _, err := RecordDeliveryAttempt(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	_, err = db.ProviderStatus(ctx, "sms", "SM"+p, DeliveryDelivered, "", now)
	must(err)

	_, err = db.Unfinished(ctx, now.Add(time.Second), 100)
	must(err)
	inTx(func(tx *sql.Tx) error {
		if _, err := ClaimFinish(ctx, tx, n1); err != nil {
			return err
		}
		return FinishNotificationTx(ctx, tx, n1, "deleted", true, now)
	})

	inTx(func(tx *sql.Tx) error { _, err := RequeueDelivery(ctx, tx, email2, now); return err })
	inTx(func(tx *sql.Tx) error {
		_, err := RecordDeliveryAttempt(ctx, tx, DeliveryOutcome{ID: email2, Status: DeliveryFailed, Error: "550", Now: now})
		return err
	})
	must(db.DiscardDelivery(ctx, email2, now))

	_, err = db.Subscription(ctx, sub.ID)
	must(err)
	_, err = db.Notification(ctx, n1)
	must(err)
	_, err = db.Delivery(ctx, email1)
	must(err)
	for _, f := range []DeliveryFilter{
		{},
		{System: "cal", Principal: p},
		{Status: DeliveryFailed},
		{Status: DeliverySent},
		{Channel: "email"},
		{System: "cal", Principal: p, Status: DeliveryFailed, AfterTime: now, AfterID: email2},
		{System: "cal"},
		{Address: "a@example.org"},
		{Type: "invite"},
		{Type: "absent", Newest: true},
		{System: "cal", Type: "invite", From: now.Add(-time.Hour), To: now},
		{System: "cal", Type: "invite", From: now.Add(-time.Hour), To: now, Newest: true},
		{Newest: true, AfterTime: now, AfterID: email2}, // the console's next page
	} {
		f.Limit = 50
		_, err = db.Deliveries(ctx, f)
		must(err)
	}
	_, err = db.DeadNotifications(ctx, NotificationFilter{System: "cal", Principal: p, Limit: 50})
	must(err)
	_, err = db.DeadNotifications(ctx, NotificationFilter{Limit: 50, AfterTime: now, AfterID: n2})
	must(err)
	_, err = db.DeadLetterCounts(ctx)
	must(err)
	_, err = db.MethodAddresses(ctx, notifyd.ChannelEmail)
	must(err)
	_, err = db.Backlog(ctx)
	must(err)

	// A published event: recorded, read by its job, delivered (one
	// delivery suppressed), to a calendar's owner.
	_, err = db.CalendarsByHref(ctx, "cal", p+"calendar/")
	must(err)
	ev := p + "e1"
	inTx(func(tx *sql.Tx) error {
		e := PublishedEvent{ID: ev, System: "cal", Topic: "event-create", Principal: p, UID: "u1", Notification: []byte("{}"), ReceivedAt: now}
		if _, _, err := RecordPublished(ctx, tx, e); err != nil {
			return err
		}
		_, _, err := RecordPublished(ctx, tx, e) // a duplicate
		return err
	})
	_, err = db.Published(ctx, ev)
	must(err)
	n3 := p + "n3"
	inTx(func(tx *sql.Tx) error {
		if _, err := ClaimPublished(ctx, tx, ev, now); err != nil {
			return err
		}
		if _, err := AddNotifications(ctx, tx, "cal", p, []NotificationRecord{{ID: n3, Href: "enp:///ics/caleventcreate?uid=u1",
			Type: "event-created", Parsed: []byte("{}"), Status: NotificationDone}}, nil, now); err != nil {
			return err
		}
		return AddUnsentDeliveries(ctx, tx, "cal", p, []DeliveryRecord{{ID: p + "d4", NotificationID: n3, SubscriptionID: sub.ID,
			MethodID: "m1", Channel: "email", Address: "a@example.org", Status: DeliverySuppressed, LastError: "suppressed"}}, now)
	})

	// A sync that finds a notification deleted and another replaced, and
	// the pruner's batches (every row is younger than the cutoff: they
	// select and delete nothing, through the same plans).
	inTx(func(tx *sql.Tx) error {
		return MarkNotificationsGone(ctx, tx, "cal", p, []ResourceVersion{{p + "1.xml", `"2"`}}, []string{p + "2.xml"}, now)
	})
	for _, r := range []PruneRule{PruneDeliveries, PruneNotifications, PruneReminders, PrunePublished} {
		_, _, err := db.PruneBatch(ctx, r, now.Add(-time.Hour), time.Time{}, 100)
		must(err)
		// The delete, which runs only when the select finds rows.
		inTx(func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, pruneDelete(r, 1), micros(now.Add(-time.Hour)), "none")
			return err
		})
	}
}

// grow adds principals × perPrincipal notifications, each with an email
// delivery (nearly all sent, one in ten failed) and an SMS one (sent), and
// one dead notification per principal.
func grow(t *testing.T, db *DB, principals, perPrincipal int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	err := db.Write(ctx, Durable, func(tx *sql.Tx) error {
		for i := range principals {
			p := fmt.Sprintf("/p/grown%d/", i)
			rec := SyncRecord{System: "cal", Principal: p, Token: "t", Now: now.Add(time.Duration(i) * time.Second)}
			var outcomes []DeliveryOutcome
			for j := range perPrincipal {
				n := fmt.Sprintf("%sn%d", p, j)
				rec.Notifications = append(rec.Notifications, NotificationRecord{ID: n, Href: n + ".xml", ETag: `"1"`, Type: "invite", Parsed: []byte("{}")})
				email := DeliveryOutcome{ID: n + "e", Status: DeliverySent, Now: rec.Now}
				if j%10 == 0 {
					email.Status = DeliveryFailed
				}
				outcomes = append(outcomes, email, DeliveryOutcome{ID: n + "s", Status: DeliverySent, ProviderID: "SM" + n, Now: rec.Now})
				rec.Deliveries = append(rec.Deliveries,
					DeliveryRecord{ID: n + "e", NotificationID: n, SubscriptionID: "s", MethodID: "m1", Channel: "email", Address: "a@example.org"},
					DeliveryRecord{ID: n + "s", NotificationID: n, SubscriptionID: "s", MethodID: "m2", Channel: "sms", Address: "+15550100"})
			}
			rec.Notifications = append(rec.Notifications, NotificationRecord{ID: p + "dead", Href: p + "dead.xml", ETag: `"1"`,
				Type: "other", Parsed: []byte("{}"), Status: NotificationDead, Error: "not XML"})
			if _, err := RecordSync(ctx, tx, rec); err != nil {
				return err
			}
			for _, o := range outcomes {
				if _, err := RecordDeliveryAttempt(ctx, tx, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storeStatements returns the statements on notifyd's tables that the
// connections of db have run.
func storeStatements(t *testing.T, db *DB) []string {
	t.Helper()
	return cachedStatements(t, db, notifydStatement)
}

// cachedStatements returns the statements for which keep is true that the
// connections of db have run (and keep in their statement caches).
func cachedStatements(t *testing.T, db *DB, keep func(string) bool) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, pool := range []*sql.DB{db.writer, db.reader} {
		// Hold every connection of the pool at once, to see all caches.
		var conns []*sql.Conn
		for range pool.Stats().MaxOpenConnections {
			c, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			err := c.Raw(func(dc any) error {
				for q := range dc.(*cachingConn).bySQL {
					if keep(q) && !slices.Contains(out, q) {
						out = append(out, q)
					}
				}
				return nil
			})
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(out)
	return out
}

// notifydTable matches the tables of notifyd's schema in a statement.
var notifydTable = regexp.MustCompile(`\b(principal_state|subscriptions|notifications|deliveries|settings|published_events|calendars|reminders)\b`)

// notifydStatement reports whether q is a query or a change of notifyd's
// tables (not a migration's, nor an EXPLAIN).
func notifydStatement(q string) bool {
	verb, _, _ := strings.Cut(strings.TrimSpace(q), " ")
	switch strings.ToUpper(verb) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return notifydTable.MatchString(q)
	}
	return false
}

// explain returns the rows of SQLite's EXPLAIN or EXPLAIN QUERY PLAN
// (what) of q run with args, one line each, the comment column left out.
func explain(t *testing.T, db *DB, what, q string, args ...any) string {
	t.Helper()
	rows, err := db.writer.Query(what+" "+q, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", what, q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if c == "comment" || c == "id" || c == "parent" || c == "notused" {
				continue
			}
			b.WriteString(vals[i].String + " ")
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// param matches a numbered parameter.
var param = regexp.MustCompile(`[$?](\d+)`)

// params returns how many numbered parameters ($N or ?N) q takes.
func params(q string) int {
	n := 0
	for _, m := range param.FindAllStringSubmatch(q, -1) {
		i, _ := strconv.Atoi(m[1])
		n = max(n, i)
	}
	return n
}

// filled returns n arguments, each v.
func filled(n int, v any) []any {
	args := make([]any, n)
	for i := range args {
		args[i] = v
	}
	return args
}

// plans returns SQLite's plan of every statement on notifyd's tables that
// db ran.
func plans(t *testing.T, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range storeStatements(t, db) {
		out[q] = explain(t, db, "EXPLAIN QUERY PLAN", q, filled(params(q), nil)...)
	}
	return out
}

// fullScan matches a plan's line reading a whole table in rowid order (no
// index).
var fullScan = regexp.MustCompile(`(?m)^SCAN \w+ $`)

// Statements that read a whole table by design.
var fullScanAllowed = []string{
	"SELECT methods FROM subscriptions WHERE enabled", // every enabled IM address (MethodAddresses)
}

// expectedIndex is the index each hot lookup must use, by a part of its
// statement.
var expectedIndex = map[string]string{
	"FROM deliveries WHERE notification_id = $1":         "deliveries_by_notification",
	"FROM subscriptions WHERE system = $1 AND princip":   "subscriptions_by_principal",
	"SELECT id FROM notifications\nWHERE status = 'de":   "notifications_settled",
	"status = 'dead' AND system = $1":                    "notifications_dead",
	"WHERE channel = 'sms' AND channel = $1":             "deliveries_by_sms_provider_id",
	"FROM principal_state WHERE system = $1":             "sqlite_autoindex_principal_state_1",
	"WHERE d.system = $1 AND d.principal = $2 ORDER BY":  "deliveries_by_principal",
	"WHERE d.status = $1 AND d.status NOT IN":            "deliveries_by_status",
	"FROM deliveries WHERE id IN":                        "sqlite_autoindex_deliveries_1",
	"FROM notifications WHERE id IN":                     "sqlite_autoindex_notifications_1",
	"FROM principal_state WHERE queued)":                 "principal_state_queued",
	"FROM deliveries d WHERE d.status IN ('queued', 'r":  "deliveries_by_status",
	"FROM notifications WHERE status = 'delivered')":     "notifications_settled",
	"FROM published_events WHERE processed_at = 0)":      "published_events_waiting",
	"FROM calendars\nWHERE system = $1 AND href IN":      "calendars_by_href",
	"WHERE d.address = $1 ORDER BY":                      "deliveries_by_address",
	"WHERE d.type = $1 ORDER BY":                         "deliveries_by_type",
	"AS TEXT) = $1 AND d.type = $2 AND d.created_at >=":  "deliveries_by_type",
	"SET gone_at = $4\nWHERE system = $1":                "notifications_in_collection",
	"SET gone_at = $5\nWHERE system = $1":                "notifications_in_collection",
	"SELECT id FROM deliveries WHERE created_at < $1":    "deliveries_by_time",
	"SELECT id FROM notifications WHERE created_at < $1": "notifications_by_time",
	"SELECT fire_key FROM reminders WHERE trigger_at":    "reminders_ended",
	"SELECT id FROM published_events WHERE processed_at": "published_events_processed",
	"DELETE FROM deliveries WHERE created_at < $1":       "sqlite_autoindex_deliveries_1",
	"DELETE FROM notifications WHERE created_at < $1":    "sqlite_autoindex_notifications_1",
	"DELETE FROM reminders WHERE trigger_at":             "sqlite_autoindex_reminders_1",
	"DELETE FROM published_events WHERE processed_at":    "sqlite_autoindex_published_events_1",
}

// The statements notifyd runs on its hot paths keep the plans they were
// designed for as the tables grow: each finds its rows through an index,
// the lookups through the index meant for them, and none sorts a whole
// table; with a few rows or hundreds of times more, the plan is the same.
// (SQLite plans without statistics, which notifyd never gathers: ANALYZE
// would make the plans depend on the data, and, as this SQLite also
// samples values (STAT4), have it plan statements again for the values
// bound to them on each run.)
func TestQueryPlansStable(t *testing.T) {
	onlySQLite(t, "reads SQLite's query plans")
	t.Parallel()
	db := migratedDB(t)
	hotPaths(t, db, "/p/first/")
	small := plans(t, db)

	grow(t, db, 50, 10)
	path := db.path
	db.Close()
	db, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hotPaths(t, db, "/p/second/")
	large := plans(t, db)

	if len(small) < 20 {
		t.Fatalf("only %d statements seen on the hot paths", len(small))
	}
	var stats int
	if err := db.writer.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'`).Scan(&stats); err != nil || stats != 0 {
		t.Errorf("the database has %d tables of statistics (%v), want none", stats, err)
	}
	for q, plan := range large {
		if small[q] != plan {
			t.Errorf("the plan changed as the tables grew, from\n%s to\n%s for\n%s", small[q], plan, q)
		}
		if fullScan.MatchString(plan) && !slices.ContainsFunc(fullScanAllowed, func(s string) bool { return strings.Contains(q, s) }) {
			t.Errorf("a whole table is read, plan\n%s for\n%s", plan, q)
		}
		if strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("a listing sorts its rows, plan\n%s for\n%s", plan, q)
		}
	}
	for part, index := range expectedIndex {
		found := false
		for q, plan := range large {
			if strings.Contains(q, part) {
				found = true
				if !strings.Contains(plan, "INDEX "+index+" ") {
					t.Errorf("the lookup does not use %s, plan\n%s for\n%s", index, plan, q)
				}
			}
		}
		if !found {
			t.Errorf("no statement containing %q ran", part)
		}
	}
}

// A statement notifyd runs is planned once, not again for the values
// bound to it: SQLite's program for it is the same whatever the values.
// (SQLite plans a statement whose LIMIT is a bare parameter for the value
// bound; a cached statement would then be parsed and planned anew on each
// run with a new value, costing more than the run itself.)
func TestStatementsPlannedOnce(t *testing.T) {
	onlySQLite(t, "reads SQLite's programs")
	t.Parallel()
	db := migratedDB(t)
	hotPaths(t, db, "/p/first/")
	for _, q := range storeStatements(t, db) {
		n := params(q)
		if n == 0 {
			continue
		}
		if a, b := explain(t, db, "EXPLAIN", q, filled(n, 7)...), explain(t, db, "EXPLAIN", q, filled(n, 8)...); a != b {
			t.Errorf("the program depends on the values bound to\n%s", q)
		}
	}
}
