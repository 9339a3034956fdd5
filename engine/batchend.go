package engine

import (
	"context"

	"github.com/notifyd/notifyd/store"
)

// batchEnd holds what a batch job (deliverBatch) finishes once its
// messages are sent. Each delivery's record is committed as soon as its
// message is sent, which a crash of notifyd cannot lose (the
// write-ahead log is in the kernel's hands), but the records are flushed
// to disk once for the whole batch instead of once each. Only then are
// the after-delivery policies of the notifications they settled applied
// (a DELETE must never run ahead of the record of the message that
// allows it), and the records of those policies written in one
// transaction.
//
// A batch job runs in one goroutine: batchEnd has no lock.
type batchEnd struct {
	unflushed bool                        // records committed but not flushed
	settled   []*store.NotificationRecord // policies to apply
	finished  []finishedRecord            // policies applied
}

type batchEndKey struct{}

// batchOf returns the batchEnd of the batch job running in ctx, or nil.
func batchOf(ctx context.Context) *batchEnd {
	b, _ := ctx.Value(batchEndKey{}).(*batchEnd)
	return b
}

// startBatch returns ctx for a batch job's attempts, and the func that
// finishes the batch: it flushes the records, applies the policies and
// records them, and returns an error if the flush failed (the policies
// are then left to the sweep, which finds them settled and unfinished).
func (e *Engine) startBatch(ctx context.Context) (context.Context, func() error) {
	b := &batchEnd{}
	ctx = context.WithValue(ctx, batchEndKey{}, b)
	return ctx, func() error {
		if b.unflushed {
			if err := persist(ctx, e.log, e.db.SyncWAL); err != nil {
				e.log.Warn("could not flush a batch's delivery records to disk; its after-delivery policies are left to the sweep",
					"notifications", len(b.settled), "err", err)
				return err
			}
		}
		for _, n := range b.settled {
			e.settle(ctx, n)
		}
		if len(b.finished) == 0 {
			return nil
		}
		if err := e.writeFinished(ctx, b.finished); err != nil {
			e.log.Warn("could not record that the after-delivery policy was applied; the sweep will apply it again",
				"notifications", len(b.finished), "err", err)
		}
		return nil
	}
}
