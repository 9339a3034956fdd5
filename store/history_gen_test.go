package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// genHistory adds n finished notifications with one final delivery each,
// numbered from first, created evenly from start to start+span, with set
// based SQL (a recursive CTE on SQLite, generate_series on PostgreSQL):
// millions of rows in minutes, not hours. Row i is of principal
// /p/(i mod principals)/ of system cal or cal2 (i mod 2), to address
// u(principal)@example.org on email, sms, webhook or im (14:3:2:1), of
// one of five notification types, sent but for one in a hundred each
// failed, skipped and suppressed; its notification is gone from its
// collection (the after-delivery policy deleted it). Each insert covers
// at most chunk rows, one transaction each.
func genHistory(tb testing.TB, db *DB, first, n, principals int, start time.Time, span time.Duration) {
	tb.Helper()
	const chunk = 100000
	ctx := context.Background()
	step := int64(span/time.Microsecond) / int64(max(n, 1))
	for lo := first; lo < first+n; lo += chunk {
		hi := min(lo+chunk, first+n) - 1
		seq := `WITH RECURSIVE seq(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM seq WHERE i < $2) `
		hex := `printf('%016x', i)`
		if db.Postgres() {
			seq = `WITH seq(i) AS (SELECT generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT))) `
			hex = `lpad(to_hex(i), 16, '0')`
		}
		at := `(CAST($3 AS BIGINT) + (i - CAST($5 AS BIGINT)) * CAST($4 AS BIGINT))`
		principal := `'/p/' || CAST(i % ` + fmt.Sprint(principals) + ` AS TEXT) || '/'`
		system := `CASE WHEN i % 2 = 0 THEN 'cal' ELSE 'cal2' END`
		// Five types in turn, but one in a thousand is of a rare type.
		typ := `CASE WHEN i % 1000 = 999 THEN 'event-registration' ELSE CASE i % 5 WHEN 0 THEN 'share-invite' WHEN 1 THEN 'share-reply'
  WHEN 2 THEN 'reminder' WHEN 3 THEN 'event-modified' ELSE 'resource-change' END END`
		err := db.Write(ctx, Lazy, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, seq+`INSERT INTO notifications (id, system, principal, href, etag, type, parsed, status,
error, created_at, settled_at, finished_at, gone_at)
SELECT 'n' || `+hex+`, `+system+`, `+principal+`, '/n/' || `+hex+` || '.xml', '"1"',
  `+typ+`,
  '{"type":"share-invite","summary":"Team meeting moved to Thursday"}', 'done', 'deleted from the collection',
  `+at+`, `+at+`, `+at+`, `+at+` FROM seq`, lo, hi, start.UnixMicro(), step, first); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, seq+`INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, type, status, provider_id, attempts, created_at, updated_at, sent_at, queued_at)
SELECT 'd' || `+hex+`, 'n' || `+hex+`, `+system+`, `+principal+`, 's' || CAST(i % `+fmt.Sprint(principals)+` AS TEXT), 'm1',
  CASE WHEN i % 20 < 14 THEN 'email' WHEN i % 20 < 17 THEN 'sms' WHEN i % 20 < 19 THEN 'webhook' ELSE 'im' END,
  'u' || CAST(i % `+fmt.Sprint(principals)+` AS TEXT) || '@example.org', `+typ+`,
  CASE i % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' WHEN 2 THEN 'suppressed' ELSE 'sent' END,
  '<' || `+hex+` || '@notifyd.example.org>', 1, `+at+`, `+at+`, `+at+`, `+at+` FROM seq`, lo, hi, start.UnixMicro(), step, first)
			return err
		})
		if err != nil {
			tb.Fatalf("generate history %d–%d: %v", lo, hi, err)
		}
	}
}
