package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
)

const subscriptionColumns = `id, system, principal, enabled, types, locale, time_zone, methods, version, created_at, updated_at,
notify_own_changes`

// subscriptionRow is every column of a subscription: subscriptionColumns
// and the preferences, which have a default (the empty string: none).
const subscriptionRow = subscriptionColumns + `, preferences`

// CreateSubscription inserts s with version 1, setting its timestamps.
func (db *DB) CreateSubscription(ctx context.Context, s *notifyd.Subscription) error {
	types, methods, err := encodeLists(s)
	if err != nil {
		return err
	}
	prefs, err := encodePreferences(s.Preferences)
	if err != nil {
		return err
	}
	s.Version = 1
	s.UpdatedAt = s.CreatedAt
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionRow+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			s.ID, s.System, s.Principal, s.Enabled, types, s.Locale, s.TimeZone, methods,
			s.Version, micros(s.CreatedAt), micros(s.UpdatedAt), s.NotifyOwnChanges, prefs)
		if err != nil {
			return err
		}
		return auditSubscriptionChange(ctx, tx, ActionSubscriptionCreated, nil, s, s.CreatedAt)
	})
}

// Subscription returns the subscription with id, or notifyd.ErrNotFound.
func (db *DB) Subscription(ctx context.Context, id string) (*notifyd.Subscription, error) {
	row := db.reader.QueryRowContext(ctx, `SELECT `+subscriptionRow+` FROM subscriptions WHERE id = $1`, id)
	s, err := scanSubscription(row)
	if err != nil {
		return nil, notFound(err)
	}
	return s, nil
}

// Subscriptions lists the subscriptions matching f, ordered by ID.
func (db *DB) Subscriptions(ctx context.Context, f notifyd.SubscriptionFilter) ([]*notifyd.Subscription, error) {
	var w filter
	w.eq("system", f.System)
	if len(f.Systems) > 0 {
		w.in("system", f.Systems)
	}
	w.eq("principal", f.Principal)
	if f.After != "" {
		w.conds = append(w.conds, "id > "+w.param(f.After))
	}
	q := `SELECT ` + subscriptionRow + ` FROM subscriptions` + w.where() + " ORDER BY id"
	if f.Limit > 0 {
		q += " LIMIT " + w.param(f.Limit)
	}
	rows, err := db.reader.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, Classify(err)
	}
	defer rows.Close()
	var out []*notifyd.Subscription
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, Classify(rows.Err())
}

// UpdateSubscription stores s over the subscription with the same ID. When
// ifVersion is not 0 the update happens only if the stored version is
// ifVersion (notifyd.ErrConflict otherwise). On success s.Version is the new
// version.
func (db *DB) UpdateSubscription(ctx context.Context, s *notifyd.Subscription, ifVersion int64) error {
	types, methods, err := encodeLists(s)
	if err != nil {
		return err
	}
	prefs, err := encodePreferences(s.Preferences)
	if err != nil {
		return err
	}
	var version int64
	err = db.Write(ctx, Durable, func(tx *sql.Tx) error {
		before, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionRow+` FROM subscriptions WHERE id = $1`, s.ID))
		if err != nil {
			return notFound(err)
		}
		version = before.Version
		if ifVersion != 0 && version != ifVersion {
			return notifyd.ErrConflict
		}
		// The version read must still be the stored one when the update
		// runs: a concurrent update (another replica's) makes this one a
		// conflict rather than a lost update.
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET system = $2, principal = $3, enabled = $4, types = $5,
locale = $6, time_zone = $7, methods = $8, version = $9, updated_at = $10, notify_own_changes = $12,
preferences = $13 WHERE id = $1 AND version = $11`,
			s.ID, s.System, s.Principal, s.Enabled, types, s.Locale, s.TimeZone, methods, version+1, micros(s.UpdatedAt), version,
			s.NotifyOwnChanges, prefs)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		version++
		after := *s
		after.Version = version
		return auditSubscriptionChange(ctx, tx, ActionSubscriptionUpdated, before, &after, s.UpdatedAt)
	})
	if err != nil {
		return err
	}
	s.Version = version
	return nil
}

// DeleteSubscription deletes the subscription with id, only if its version
// is ifVersion when that is not 0.
func (db *DB) DeleteSubscription(ctx context.Context, id string, ifVersion int64) error {
	return db.Write(ctx, Durable, func(tx *sql.Tx) error {
		before, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionRow+` FROM subscriptions WHERE id = $1`, id))
		if err != nil {
			return notFound(err)
		}
		if ifVersion != 0 && before.Version != ifVersion {
			return notifyd.ErrConflict
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = $1 AND version = $2`, id, before.Version)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return auditSubscriptionChange(ctx, tx, ActionSubscriptionDeleted, before, nil, time.Now())
	})
}

// oneRow returns notifyd.ErrConflict unless res changed a row: the row
// changed since the transaction read it.
func oneRow(res sql.Result) error {
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return notifyd.ErrConflict
}

type scanner interface{ Scan(...any) error }

func scanSubscription(r scanner) (*notifyd.Subscription, error) {
	var s notifyd.Subscription
	var types, methods, prefs string
	var created, updated int64
	if err := r.Scan(&s.ID, &s.System, &s.Principal, &s.Enabled, &types, &s.Locale, &s.TimeZone,
		&methods, &s.Version, &created, &updated, &s.NotifyOwnChanges, &prefs); err != nil {
		return nil, err
	}
	if prefs != "" {
		s.Preferences = new(notifyd.Preferences)
		if err := json.Unmarshal([]byte(prefs), s.Preferences); err != nil {
			return nil, fmt.Errorf("subscription %s: stored preferences: %w", s.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(types), &s.Types); err != nil {
		return nil, fmt.Errorf("subscription %s: stored types: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(methods), &s.Methods); err != nil {
		return nil, fmt.Errorf("subscription %s: stored methods: %w", s.ID, err)
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func encodeLists(s *notifyd.Subscription) (types, methods string, err error) {
	t := s.Types
	if t == nil {
		t = []notifyd.NotificationType{}
	}
	tb, err := json.Marshal(t)
	if err != nil {
		return "", "", err
	}
	mb, err := json.Marshal(s.Methods)
	if err != nil {
		return "", "", err
	}
	return string(tb), string(mb), nil
}

// encodePreferences stores p as JSON, or as the empty string when it
// sets nothing.
func encodePreferences(p *notifyd.Preferences) (string, error) {
	if p.IsZero() {
		return "", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// notFound turns sql.ErrNoRows into notifyd.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notifyd.ErrNotFound
	}
	return Classify(err)
}

// MethodAddresses returns the distinct addresses of the enabled delivery
// methods of channel in enabled subscriptions (the IM channel keeps a
// presence subscription to each).
func (db *DB) MethodAddresses(ctx context.Context, channel notifyd.Channel) ([]string, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT methods FROM subscriptions WHERE enabled`)
	if err != nil {
		return nil, Classify(err)
	}
	defer rows.Close()
	seen := make(map[string]bool)
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var methods []notifyd.DeliveryMethod
		if err := json.Unmarshal([]byte(raw), &methods); err != nil {
			return nil, err
		}
		for _, m := range methods {
			if m.Channel == channel && m.Enabled && !seen[m.Address] {
				seen[m.Address] = true
				out = append(out, m.Address)
			}
		}
	}
	return out, Classify(rows.Err())
}
