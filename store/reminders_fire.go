package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// ReminderFiring is one scheduled reminder for FireReminders to fire or
// skip: its new State (ReminderFired or ReminderSkipped) and Reason and,
// fired, its Notification and Deliveries.
type ReminderFiring struct {
	FireKey, System, Principal string
	State, Reason              string
	Notification               NotificationRecord
	Deliveries                 []DeliveryRecord
}

// FireReminders does in tx what ClaimReminder and AddNotifications do for
// each of fs, in a few statements for them all (reminders due together
// are fired by the hundred): each that is still scheduled takes its State
// and Reason, fired at now, and those fired get their notification and
// deliveries. It returns the fire keys it claimed and the IDs of the
// deliveries it created.
func FireReminders(ctx context.Context, tx *sql.Tx, fs []ReminderFiring, now time.Time) (claimed, created map[string]bool, err error) {
	at := micros(now)
	claimed, created = make(map[string]bool, len(fs)), make(map[string]bool, len(fs))
	type outcome struct{ state, reason string }
	keys := make(map[outcome][]any)
	var order []outcome
	for _, f := range fs {
		o := outcome{f.State, f.Reason}
		if _, ok := keys[o]; !ok {
			order = append(order, o)
		}
		keys[o] = append(keys[o], f.FireKey)
	}
	for _, o := range order {
		err := inChunks(keys[o], 1, func(n int, args []any) error {
			rows, err := tx.QueryContext(ctx, `UPDATE reminders SET state = $1, reason = $2, fired_at = $3, updated_at = $3
WHERE state = 'scheduled' AND fire_key IN (`+placeholders(n, 1, 4)+`) RETURNING fire_key`, append([]any{o.state, o.reason, at}, args...)...)
			if err != nil {
				return err
			}
			return eachString(rows, func(k string) { claimed[k] = true })
		})
		if err != nil {
			return nil, nil, err
		}
	}
	var ns, ds []any
	for _, f := range fs {
		if !claimed[f.FireKey] || f.State != ReminderFired {
			continue
		}
		n := f.Notification
		status, note := NotificationDelivering, ""
		if len(f.Deliveries) == 0 {
			status, note = NotificationDone, "kept: no delivery method wants this type of notification"
		}
		ns = append(ns, n.ID, f.System, f.Principal, n.Href, n.ETag, n.Type, string(n.Parsed), status, note, at)
		for _, d := range f.Deliveries {
			ds = append(ds, d.ID, d.NotificationID, f.System, f.Principal, d.SubscriptionID, d.MethodID, d.Channel, d.Address, n.Type, at)
		}
	}
	err = inChunks(ns, 10, func(n int, args []any) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, system, principal, href, etag, type, parsed, status, error, created_at)
VALUES `+placeholders(n, 10, 1)+` ON CONFLICT (id) DO NOTHING`, args...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	err = inChunks(ds, 10, func(n int, args []any) error {
		// Each row's last parameter (now) is its created_at, updated_at
		// and queued_at.
		rows := strings.Split(placeholders(n, 10, 1), "), (")
		for i, r := range rows {
			r = strings.Trim(r, "()")
			now := r[strings.LastIndex(r, " ")+1:]
			rows[i] = r + ", 'queued', " + now + ", " + now
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO deliveries (id, notification_id, system, principal, subscription_id, method_id,
channel, address, type, created_at, status, updated_at, queued_at) VALUES (`+strings.Join(rows, "), (")+`) ON CONFLICT (id) DO NOTHING RETURNING id`, args...)
		if err != nil {
			return err
		}
		return eachString(res, func(id string) { created[id] = true })
	})
	return claimed, created, err
}

// inChunks calls fn for args, rows of width values each, in chunks of a
// power of two rows (at most 128), so that the statements fn prepares
// for n rows are few and stay in the statement cache.
func inChunks(args []any, width int, fn func(n int, args []any) error) error {
	for rows := len(args) / width; rows > 0; {
		n := 128
		for n > rows {
			n /= 2
		}
		if err := fn(n, args[:n*width]); err != nil {
			return err
		}
		args, rows = args[n*width:], rows-n
	}
	return nil
}

// placeholders is n rows of width parameters, numbered from first: with
// width 1, "$4, $5"; otherwise "($1, $2), ($3, $4)".
func placeholders(n, width, first int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if width > 1 {
			b.WriteByte('(')
		}
		for j := range width {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", first+i*width+j)
		}
		if width > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

// eachString calls fn with the one string column of each of rows.
func eachString(rows *sql.Rows, fn func(string)) error {
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		fn(s)
	}
	return rows.Err()
}
