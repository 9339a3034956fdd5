package store

import (
	"context"
	"database/sql"
	"strings"
)

// recordAgain brings up to date, in tx, the stored instance with r's fire
// key, which the object's data (r.CalendarHref, r.ObjectHref) yields
// again: ringing (r.State not ReminderSkipped) or skipped with r.Reason.
// It returns what it did:
//   - scheduled: an instance cancelled (its event moved away and back, or
//     deleted and made again), or skipped for one of c.Revivable, that now
//     rings with its trigger after c.Now, is scheduled again, its reason
//     cleared; the caller queues a job for it in tx.
//   - skipped: a scheduled instance now skipped (acknowledged, say), or a
//     cancelled one back but skipped with its trigger ahead, is skipped
//     with r.Reason.
//
// A scheduled instance that stays scheduled takes r's hrefs: its object
// moved (another calendar whose sync came first).
//
// And, changing neither: an instance skipped for one of c.Revivable and
// now for another, with its trigger ahead, is given the current reason.
// A fired instance is never touched, nor one skipped as late (or for any
// reason not in c.Revivable), nor, but a scheduled one, one whose trigger
// is not after c.Now: what happened when it was due stays as it was.
//
// A job left from an instance's first scheduling may still wait in the
// queue when it is scheduled again: the two jobs (or more) fire it once,
// as ClaimReminder claims only a scheduled instance, once.
func recordAgain(ctx context.Context, tx *sql.Tx, c CalendarChange, r ReminderRecord) (scheduled, skipped bool, err error) {
	now := micros(c.Now)
	ahead := r.TriggerAt.After(c.Now)
	if r.State != ReminderSkipped {
		// A scheduled instance follows its object to another calendar or
		// href (a move whose new calendar synced first): the old
		// object's removal must not cancel it.
		if _, err := tx.ExecContext(ctx, `UPDATE reminders SET calendar_href = $2, object_href = $3
WHERE fire_key = $1 AND state = 'scheduled' AND object_href <> $3`, r.FireKey, r.CalendarHref, r.ObjectHref); err != nil {
			return false, false, err
		}
		if !ahead {
			return false, false, nil
		}
		var w filter
		set := `UPDATE reminders SET state = 'scheduled', reason = '', details = ` + w.param(string(r.Details)) +
			`, calendar_href = ` + w.param(r.CalendarHref) + `, object_href = ` + w.param(r.ObjectHref) +
			`, updated_at = ` + w.param(now)
		w.eq("fire_key", r.FireKey)
		w.conds = append(w.conds, "(state = 'cancelled'"+revivableSkip(&w, c.Revivable)+")")
		scheduled, err = exec1(ctx, tx, set+w.where(), w.args)
		return scheduled, false, err
	}
	var w filter
	set := `UPDATE reminders SET state = 'skipped', reason = ` + w.param(r.Reason) + `, details = ` + w.param(string(r.Details)) +
		`, calendar_href = ` + w.param(r.CalendarHref) + `, object_href = ` + w.param(r.ObjectHref) +
		`, updated_at = ` + w.param(now)
	w.eq("fire_key", r.FireKey)
	if ahead {
		w.conds = append(w.conds, "state IN ('scheduled', 'cancelled')")
	} else {
		w.conds = append(w.conds, "state = 'scheduled'") // acknowledged while late, say
	}
	if skipped, err = exec1(ctx, tx, set+w.where(), w.args); err != nil || skipped || !ahead || len(c.Revivable) == 0 {
		return false, skipped, err
	}
	w = filter{}
	set = `UPDATE reminders SET reason = ` + w.param(r.Reason) + `, updated_at = ` + w.param(now)
	w.eq("fire_key", r.FireKey)
	w.eq("state", ReminderSkipped)
	w.in("reason", c.Revivable)
	w.conds = append(w.conds, "reason <> "+w.param(r.Reason))
	_, err = exec1(ctx, tx, set+w.where(), w.args)
	return false, false, err
}

// revivableSkip is the condition " OR (state = 'skipped' AND reason IN
// (reasons…))" with its parameters added to w; "" without reasons.
func revivableSkip(w *filter, reasons []string) string {
	if len(reasons) == 0 {
		return ""
	}
	marks := make([]string, len(reasons))
	for i, reason := range reasons {
		marks[i] = w.param(reason)
	}
	return " OR (state = 'skipped' AND reason IN (" + strings.Join(marks, ", ") + "))"
}

// exec1 runs a statement that changes at most one row, and reports
// whether it did.
func exec1(ctx context.Context, tx *sql.Tx, query string, args []any) (bool, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
