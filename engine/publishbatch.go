package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// Publishes that arrive together are recorded in one durable write with
// one insert of their jobs, as the ping intake combines pings (see
// Intake): River's insert costs about as much for one job as for dozens.
// At most maxPublishWrites writes are in flight; the publishes arriving
// meanwhile form the next, of at most maxPublishBatch events.
const (
	maxPublishWrites = 2
	maxPublishBatch  = 500
)

// publishReq is one event waiting to be recorded.
type publishReq struct {
	rec      store.PublishedEvent
	inserted bool
	// principal is whom the event was recorded for: rec's, or for a
	// duplicate the first publish's.
	principal string
	err       error
	done      chan struct{}
	led       bool          // lead is closed
	lead      chan struct{} // closed when this request is to write the pending ones
}

// record durably records rec with its job, unless an event with its ID
// was recorded before, and reports whether it did (inserted) and whom
// the event is recorded for.
func (p *Publisher) record(rec store.PublishedEvent) (inserted bool, principal string, err error) {
	req := &publishReq{rec: rec, done: make(chan struct{}), lead: make(chan struct{})}
	p.mu.Lock()
	p.pending = append(p.pending, req)
	lead := p.writers < maxPublishWrites
	if lead {
		p.writers++
		req.led = true
	}
	p.mu.Unlock()
	if !lead {
		select {
		case <-req.done:
		case <-req.lead:
		}
		// Given the lead, it writes even if its own event was in another
		// writer's batch: it holds one of the writers.
		p.mu.Lock()
		lead = req.led
		p.mu.Unlock()
	}
	if lead {
		p.writePending()
	}
	<-req.done
	return req.inserted, req.principal, req.err
}

// writePending records the pending events (up to maxPublishBatch) in one
// durable write, answers them, and passes the lead to the first event
// that arrived meanwhile, if any.
func (p *Publisher) writePending() {
	time.Sleep(gatherWindow) // let the events arriving now join this write
	p.mu.Lock()
	n := min(len(p.pending), maxPublishBatch)
	batch := p.pending[:n:n]
	p.pending = p.pending[n:]
	p.mu.Unlock()

	var err error
	if len(batch) > 0 {
		err = p.write(batch)
	}
	for _, r := range batch {
		if err != nil {
			r.inserted, r.err = false, err
		}
		close(r.done)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.pending {
		if !r.led {
			r.led = true
			close(r.lead)
			return
		}
	}
	p.writers--
}

// write records batch in one durable write: each event not recorded
// before, and one insert of their jobs.
func (p *Publisher) write(batch []*publishReq) error {
	ctx := context.Background()
	return p.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		var jobs []river.InsertManyParams
		for _, r := range batch {
			var err error
			// Set afresh: Write may run this function a second time.
			if r.inserted, r.principal, err = store.RecordPublished(ctx, tx, r.rec); err != nil {
				return err
			}
			if r.inserted {
				jobs = append(jobs, publishJob(r.rec.ID))
			}
		}
		return p.queue.insert(ctx, tx, jobs...)
	})
}
