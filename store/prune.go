package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// PruneRule says which rows of one table are history that may be deleted
// once older than a retention: those whose Time column is before the
// cutoff and that meet Where. The pruner deletes them oldest first, in
// small batches, so Time must lead an index whose condition, if partial,
// Where repeats literally (the planner uses a partial index only then).
type PruneRule struct {
	// Name names the rule in metrics and logs ("deliveries").
	Name string
	// Table is the table, Key its primary key's columns (comma-separated),
	// Time its time column (unix microseconds).
	Table, Key, Time string
	// Where, if not empty, is an SQL condition on the table's row (the
	// table's name qualifies its columns in subqueries) that a row must
	// also meet. It must be true only of rows nothing needs any more.
	Where string
	// Dependents are the rows of other tables that belong to a row of
	// this one (Key a single column): they go with it, in the same write.
	Dependents []PruneDependent
}

// PruneDependent is a table whose rows belong to another's: Column holds
// the key of the row they belong to, and leads an index.
type PruneDependent struct {
	Table, Column string
}

// Rules of the tables notifyd prunes. Each keeps what a later step still
// needs; docs/configuration.md (retention) says why each may go.
var (
	// PruneDeliveries: the final deliveries (a dead letter, failed, waits
	// until an operator retries or discards it), neither created nor
	// changed within the retention.
	PruneDeliveries = PruneRule{Name: "deliveries", Table: "deliveries", Key: "id", Time: "created_at",
		Where:      `status IN ('sent', 'delivered', 'undelivered', 'skipped', 'discarded', 'suppressed', 'bounced') AND updated_at < $1`,
		Dependents: []PruneDependent{{Table: "delivery_events", Column: "delivery_id"}}}
	// PruneNotifications: the finished notifications with no delivery left
	// whose record no sync can need: a full resync of the collection
	// recognises what it handled by this record, so a notification that
	// may still be in its principal's notification collection stays.
	// Gone from it (deleted, replaced: gone_at), or never from it (a
	// reminder, a published event, a calendar change, a scheduling
	// message: another table keeps those from being sent twice), it may
	// go. While the collection is unknown (not discovered yet, forgotten),
	// everything of the principal stays.
	PruneNotifications = PruneRule{Name: "notifications", Table: "notifications", Key: "id", Time: "created_at",
		Where: `status IN ('done', 'dead')
AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
AND (gone_at > 0 OR NOT EXISTS (SELECT 1 FROM principal_state p
  WHERE p.system = notifications.system AND p.principal = notifications.principal AND NOT p.gone
  AND (p.collection_url = '' OR substr(notifications.href, 1, length(p.collection_url)) = p.collection_url)))`}
	// PruneReminders: the alarm instances that rang, were skipped or
	// cancelled, whose trigger is past: a calendar sync works out
	// instances from a poll interval ago on, so it cannot schedule one of
	// these again (the retention must exceed reminders.poll_interval).
	PruneReminders = PruneRule{Name: "reminders", Table: "reminders", Key: "fire_key", Time: "trigger_at",
		Where: `state <> 'scheduled'`}
	// PrunePublished: the records of published events whose notification
	// was made; a publish of the same event after they are gone is taken
	// as new.
	PrunePublished = PruneRule{Name: "published_events", Table: "published_events", Key: "id", Time: "processed_at",
		Where: `processed_at > 0`}
	// PrunePendingUpdates: calendar changes still waiting long after their
	// burst window closed (their job was lost or given up): nothing will
	// tell them any more. The table holds only what waits: no index.
	PrunePendingUpdates = PruneRule{Name: "pending_updates", Table: "pending_updates", Key: "system, principal, key",
		Time: "due_at"}
	// PruneAudit: the audit trail's records (index audit_log_at).
	PruneAudit = PruneRule{Name: "audit", Table: "audit_log", Key: "id", Time: "at"}
)

// DefaultPruneBatch is how many rows one pruning transaction deletes by
// default: on SQLite, 500 deliveries take 7 ms, so the writes waiting
// behind them (a ping's) wait that long at most; 2,000 took 60–90 ms,
// more per row too, as their pages no longer fit SQLite's cache.
const DefaultPruneBatch = 500

// DefaultPrunePause is how long the pruner waits after each batch, as a
// multiple of the batch's time: it has the database a twentieth of the
// time at most, and intake keeps more than 90% of its throughput while a
// backlog is pruned (BenchmarkIntakeWhilePruning; the deleted rows'
// index pages, written to the log and checkpointed, cost the writes
// around them more than the pruner's own share of time). A day of a
// million notifications is still pruned in minutes.
const DefaultPrunePause = 19

// Prune deletes the rows of r older than cutoff, batch rows at a time,
// pausing after each batch for pause times as long as it took, so that
// the writes waiting for the database (pings, deliveries) have it most of
// the time; counted, if not nil, is told each batch's count. It returns
// how many rows it deleted, and stops early when ctx ends.
func (db *DB) Prune(ctx context.Context, r PruneRule, cutoff time.Time, batch int, pause float64, counted func(int)) (int, error) {
	total := 0
	var after time.Time
	for {
		start := time.Now()
		n, last, err := db.PruneBatch(ctx, r, cutoff, after, batch)
		total += n
		if counted != nil {
			counted(n)
		}
		if err != nil || n < batch {
			return total, err
		}
		after = last
		if !sleep(ctx, time.Duration(float64(time.Since(start))*pause)) {
			return total, ctx.Err()
		}
	}
}

// PruneBatch deletes up to limit rows of r older than cutoff, oldest
// first from after (the time of the last row the previous batch deleted:
// the rows before it that stay are not read again), and returns how many
// it deleted and the time of the last one (after when none). The rows are
// found with a read, which waits for no writer, and deleted by key in one
// Lazy write that checks them again (one may have changed meanwhile): the
// writes waiting behind it wait for the deletion only. A deletion lost to
// a power failure is made again by the next run.
func (db *DB) PruneBatch(ctx context.Context, r PruneRule, cutoff, after time.Time, limit int) (int, time.Time, error) {
	width := len(strings.Split(r.Key, ","))
	var keys []any
	err := db.each(ctx, pruneSelect(r), []any{micros(cutoff), micros(after), limit}, func(s scanner) error {
		k := make([]any, width)
		ptrs := make([]any, width)
		for i := range k {
			ptrs[i] = &k[i]
		}
		if err := s.Scan(ptrs...); err != nil {
			return err
		}
		keys = append(keys, k...)
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, after, err
	}
	q := pruneDelete(r, len(keys)/width)
	args := append([]any{micros(cutoff)}, keys...)
	var n int
	var last int64
	err = db.Write(ctx, Lazy, func(tx *sql.Tx) error {
		n, last = 0, micros(after)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t int64
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			n++
			last = max(last, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range r.Dependents {
			if _, err := tx.ExecContext(ctx, pruneDependents(r, d, len(keys)), keys...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, after, err
	}
	return n, fromMicros(last), nil
}

// pruneCond is the condition of the rows of r that may go: $1 is the
// cutoff.
func pruneCond(r PruneRule) string {
	cond := r.Time + " < $1"
	if r.Where != "" {
		cond += " AND " + r.Where
	}
	return cond
}

// pruneSelect finds the keys of a batch of r: $1 the cutoff, $2 the time
// to start from, $3 the batch's size.
func pruneSelect(r PruneRule) string {
	return "SELECT " + r.Key + " FROM " + r.Table + " WHERE " + pruneCond(r) + " AND " + r.Time + " >= $2 ORDER BY " +
		r.Time + " LIMIT $3"
}

// pruneDependents deletes the rows of d that belonged to the n rows of r
// whose keys are $1… and that are gone.
func pruneDependents(r PruneRule, d PruneDependent, n int) string {
	return "DELETE FROM " + d.Table + " WHERE " + d.Column + " IN (" + placeholders(n, 1, 1) + ") AND NOT EXISTS (SELECT 1 FROM " +
		r.Table + " p WHERE p." + r.Key + " = " + d.Table + "." + d.Column + ")"
}

// pruneDelete deletes the n rows of r whose keys are $2… if they still may
// go ($1 the cutoff), and returns their times.
func pruneDelete(r PruneRule, n int) string {
	width := len(strings.Split(r.Key, ","))
	var b strings.Builder
	b.WriteString("DELETE FROM " + r.Table + " WHERE " + pruneCond(r) + " AND ")
	if width == 1 {
		b.WriteString(r.Key + " IN (" + placeholders(n, 1, 2) + ")")
	} else {
		b.WriteString("(" + r.Key + ") IN (VALUES " + placeholders(n, width, 2) + ")")
	}
	b.WriteString(" RETURNING " + r.Time)
	return b.String()
}
