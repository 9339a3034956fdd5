package store

import (
	"context"
	"database/sql"
	"time"
	"unicode/utf8"
)

// A delivery's history: the table delivery_events keeps one row per
// attempt (written by the statement group that records the attempt's
// outcome, in its transaction) and per hold, release, operator retry or
// discard and provider report, so that the console shows every attempt
// with the provider's reply, not only the last one.

// Kinds of delivery events.
const (
	// EventAttempt is one attempt at sending (it counts in Attempts).
	EventAttempt = "attempt"
	// EventHeld: the subscription's preferences held the delivery
	// (Detail: why; ReleaseAt: until when).
	EventHeld = "held"
	// EventReleased: a held delivery was queued again at its release.
	EventReleased = "released"
	// EventRequeued: an operator retried the failed delivery.
	EventRequeued = "requeued"
	// EventDiscarded: an operator discarded the failed delivery.
	EventDiscarded = "discarded"
	// EventProvider: the provider reported on a message it accepted
	// (Status: delivered, undelivered…).
	EventProvider = "provider"
)

// MaxEventDetail is how many bytes of a provider's reply or an error an
// event keeps; a longer one is cut, ending with "…".
const MaxEventDetail = 2000

// DeliveryEvent is one step of a delivery's history.
type DeliveryEvent struct {
	DeliveryID string
	Kind       string
	// Attempt is the attempt's number (1 for the first); 0 for an event
	// that is not an attempt.
	Attempt int
	// StartedAt is when an attempt started; At when it ended, or when
	// another event happened.
	StartedAt, At time.Time
	// Status is the delivery's status the event left.
	Status string
	// ProviderID is the provider's identifier of the message, if any.
	ProviderID string
	// Detail is the provider's reply or the error, or why the delivery
	// was held (at most MaxEventDetail bytes).
	Detail string
	// ReleaseAt is when a held delivery was to be released.
	ReleaseAt time.Time
}

// boundDetail cuts s to MaxEventDetail bytes, on a character boundary.
func boundDetail(s string) string {
	if len(s) <= MaxEventDetail {
		return s
	}
	const ellipsis = "…"
	cut := MaxEventDetail - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

const insertEvents = `INSERT INTO delivery_events (delivery_id, kind, attempt, started_at, at, status, provider_id, detail,
release_at) VALUES `

// eventArgs are e's values, in insertEvents' column order.
func eventArgs(e DeliveryEvent) []any {
	started := e.StartedAt
	if started.IsZero() || started.After(e.At) {
		started = e.At
	}
	var release int64
	if !e.ReleaseAt.IsZero() {
		release = micros(e.ReleaseAt)
	}
	return []any{e.DeliveryID, e.Kind, e.Attempt, micros(started), micros(e.At), e.Status, e.ProviderID,
		boundDetail(e.Detail), release}
}

// addEvent records e in tx.
func addEvent(ctx context.Context, tx *sql.Tx, e DeliveryEvent) error {
	_, err := tx.ExecContext(ctx, insertEvents+`($1, $2, $3, $4, $5, $6, $7, $8, $9)`, eventArgs(e)...)
	return Classify(err)
}

// DeliveryEvents returns delivery id's history, oldest first (nothing for
// a delivery recorded before the history was kept).
func (db *DB) DeliveryEvents(ctx context.Context, id string) ([]DeliveryEvent, error) {
	var out []DeliveryEvent
	err := db.each(ctx, `SELECT kind, attempt, started_at, at, status, provider_id, detail, release_at FROM delivery_events
WHERE delivery_id = $1 ORDER BY at, attempt`, []any{id}, func(r scanner) error {
		e := DeliveryEvent{DeliveryID: id}
		var started, at, release int64
		if err := r.Scan(&e.Kind, &e.Attempt, &started, &at, &e.Status, &e.ProviderID, &e.Detail, &release); err != nil {
			return err
		}
		e.StartedAt, e.At = fromMicros(started), fromMicros(at)
		if release != 0 {
			e.ReleaseAt = fromMicros(release)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}
