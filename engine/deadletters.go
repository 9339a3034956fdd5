package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// RetryDelivery puts a failed delivery (a dead letter) back in the queue:
// it becomes queued again, keeping its attempts and last error, and a new
// deliver job is inserted in the same transaction. It returns the delivery
// as that transaction committed it (status queued, the attempts and last
// error of the failed run, queued_at now), never a later state: the job
// may run as soon as the transaction commits, so reading the delivery
// afterwards would return whatever the worker made of it by then. It
// returns notifyd.ErrNotFound if there is no such delivery, and
// notifyd.ErrConflict if it is not failed.
func (e *Engine) RetryDelivery(ctx context.Context, id string) (*store.DeliveryRecord, error) {
	var d *store.DeliveryRecord
	err := e.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var err error
		if d, err = store.RequeueDelivery(ctx, tx, id, time.Now()); err != nil {
			return err
		}
		return e.queue.insert(ctx, tx, deliverJob(id, notifyd.Channel(d.Channel)))
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
