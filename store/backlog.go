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
	// BacklogUpdates counts the calendar updates waiting for their burst
	// window to close.
	BacklogUpdates = "updates"
)

// BacklogKinds lists Backlog's keys.
var BacklogKinds = []string{BacklogSyncs, BacklogDeliveries, BacklogPolicies, BacklogUpdates}

// backlogQuery counts the three kinds of work in one statement, so that
// the counts are of one moment (one snapshot): work moving from one kind
// to the next in a transaction is never missed between two counts. Each
// count reads a partial index of its rows only, whatever the size of the
// table: principal_state_queued, deliveries_by_status and
// notifications_settled (the query states their conditions literally,
// for the planners to use them).
const backlogQuery = `SELECT (SELECT count(*) FROM principal_state WHERE queued),
(SELECT count(*) FROM deliveries d WHERE d.status IN ('` + DeliveryQueued + `', '` + DeliveryRetrying + `') AND ` + inStatusIndex + `),
(SELECT count(*) FROM notifications WHERE status = '` + NotificationDelivered + `')`

// Backlog counts the work notifyd has outstanding, by kind (BacklogSyncs,
// BacklogDeliveries, BacklogPolicies; every key is present): what its job
// workers have to do, now or later (a retry waiting for its time counts),
// read from notifyd's own tables. A notification counts under
// BacklogPolicies from the moment its last delivery becomes final until
// its after-delivery policy is applied, even when no job is queued for it
// yet (a run stopped before applying it: the sweep queues it).
func (db *DB) Backlog(ctx context.Context) (map[string]int64, error) {
	var syncs, deliveries, policies, updates int64
	// Pending updates first: one told since is among the deliveries
	// counted next, in the same transaction that took it.
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM pending_updates`).Scan(&updates); err != nil {
		return nil, Classify(err)
	}
	if err := db.reader.QueryRowContext(ctx, backlogQuery).Scan(&syncs, &deliveries, &policies); err != nil {
		return nil, Classify(err)
	}
	return map[string]int64{BacklogSyncs: syncs, BacklogDeliveries: deliveries, BacklogPolicies: policies,
		BacklogUpdates: updates}, nil
}
