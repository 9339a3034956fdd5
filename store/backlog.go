package store

import (
	"context"
)

// Kinds of outstanding work, the keys of Backlog's counts.
const (
	// BacklogSyncs counts the principals whose sync is queued or running
	// (waiting its turn, running, or waiting to retry).
	BacklogSyncs = "syncs"
	// BacklogDeliveries counts the deliveries waiting to be sent: queued,
	// or retrying after a temporary failure.
	BacklogDeliveries = "deliveries"
	// BacklogPolicies counts the notifications whose deliveries are all
	// final but whose after-delivery policy is not applied yet.
	BacklogPolicies = "policies"
	// BacklogPublished counts the events calendar servers published
	// (acknowledged) whose notification and deliveries are not created
	// yet.
	BacklogPublished = "published"
	// BacklogUpdates counts the calendar updates waiting for their burst
	// window to close.
	BacklogUpdates = "updates"
)

// BacklogKinds lists Backlog's keys.
var BacklogKinds = []string{BacklogSyncs, BacklogDeliveries, BacklogPolicies, BacklogPublished, BacklogUpdates}

// backlogQuery counts the five kinds of work in one statement, so that
// the counts are of one moment (one snapshot): work moving from one kind
// to the next in a transaction is never missed between two counts. Each
// count reads a partial index of its rows only, whatever the size of the
// table: principal_state_queued, deliveries_by_status,
// notifications_settled and published_events_waiting (the query states
// their conditions literally, for the planners to use them); the pending
// updates are few (one per event changed within a burst window).
const backlogQuery = `SELECT (SELECT count(*) FROM principal_state WHERE queued),
(SELECT count(*) FROM deliveries d WHERE d.status IN ('` + DeliveryQueued + `', '` + DeliveryRetrying + `') AND ` + inStatusIndex + `),
(SELECT count(*) FROM notifications WHERE status = '` + NotificationDelivered + `'),
(SELECT count(*) FROM published_events WHERE processed_at = 0),
(SELECT count(*) FROM pending_updates)`

// Backlog counts the work notifyd has outstanding, by kind (BacklogSyncs,
// BacklogDeliveries, BacklogPolicies, BacklogPublished, BacklogUpdates; every key is
// present): what its job
// workers have to do, now or later (a retry waiting for its time counts),
// read from notifyd's own tables. A notification counts under
// BacklogPolicies from the moment its last delivery becomes final until
// its after-delivery policy is applied, even when no job is queued for it
// yet (a run stopped before applying it: the sweep queues it).
func (db *DB) Backlog(ctx context.Context) (map[string]int64, error) {
	var syncs, deliveries, policies, published, updates int64
	if err := db.reader.QueryRowContext(ctx, backlogQuery).Scan(&syncs, &deliveries, &policies, &published, &updates); err != nil {
		return nil, Classify(err)
	}
	return map[string]int64{BacklogSyncs: syncs, BacklogDeliveries: deliveries, BacklogPolicies: policies,
		BacklogPublished: published, BacklogUpdates: updates}, nil
}
