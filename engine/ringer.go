package engine

import (
	"context"
	"sync"
	"time"
)

// maxRingBatch caps the reminders one write fires; ringers is how many
// such writes may be under way at once (one commits while the next is
// written).
const (
	maxRingBatch = 100
	ringers      = 2
)

// ringer rings reminders at their triggers, together. The worker of each
// reminder's job reads it ahead (toRing), hands it to the ringer and
// waits; at a trigger, the reminders waiting for it (everyone's 9:00
// meeting) are fired by one write per maxRingBatch, their deliveries
// sharing delivery jobs (25 a job), rather than by a write, a delivery job
// and a fetch of that job each: the delivery queue takes at most its
// workers' worth of jobs per fetch (16 every 50 ms), which held 5,000
// reminders due at the same second 15 seconds or more from their
// channel. A reminder whose trigger has passed when its worker gets it (a
// backlog after downtime) is fired as soon as a batch is free, with
// whichever others came meanwhile, as the store's group commit does with
// writes.
type ringer struct {
	// fire fires rs, now, and returns the outcome of each by fire key
	// (nil: fired, skipped, or not scheduled any more).
	fire func(rs []*toRing) map[string]error
	mu   sync.Mutex
	// waiting are the calls whose trigger is ahead, by trigger (Unix
	// nanoseconds); each trigger has a timer that moves its calls to due.
	waiting map[int64][]*ringCall
	due     []*ringCall // trigger passed: to be fired
	firing  int         // goroutines firing due
	// idle, if not nil, is closed once nothing is due or being fired
	// (see quiet).
	idle chan struct{}
	// For tests: held keeps the due calls from being fired; joined, if
	// not nil, is called as each call starts waiting.
	held   bool
	joined func()
}

// ringCall is one worker's reminder, waiting to be fired.
type ringCall struct {
	r   *toRing
	out chan error // its outcome, once fired
	// taken says it is being fired: its worker waits for the outcome
	// even if its context ends. gone says its worker stopped waiting
	// before: it is not fired (its job runs again).
	taken, gone bool
}

func newRinger(fire func(rs []*toRing) map[string]error) *ringer {
	return &ringer{fire: fire, waiting: make(map[int64][]*ringCall)}
}

// ring fires the reminder t at trigger (at once if it has passed), with
// the others due then, and returns its outcome.
func (r *ringer) ring(ctx context.Context, t *toRing, trigger time.Time) error {
	c := &ringCall{r: t, out: make(chan error, 1)}
	r.mu.Lock()
	at := trigger.UnixNano()
	if _, armed := r.waiting[at]; armed || time.Until(trigger) > 0 {
		if !armed {
			time.AfterFunc(time.Until(trigger), func() { r.dueAt(at) })
		}
		r.waiting[at] = append(r.waiting[at], c) // due with the others of its trigger
	} else {
		r.due = append(r.due, c)
		r.kick()
	}
	joined := r.joined
	r.mu.Unlock()
	if joined != nil {
		joined()
	}
	select {
	case err := <-c.out:
		return err
	case <-ctx.Done():
	}
	r.mu.Lock()
	taken := c.taken
	c.gone = !taken
	r.mu.Unlock()
	if taken { // what the write did is the outcome
		return <-c.out
	}
	return ctx.Err()
}

// dueAt makes the calls waiting for the trigger at (Unix nanoseconds) due.
func (r *ringer) dueAt(at int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.due = append(r.due, r.waiting[at]...)
	delete(r.waiting, at)
	r.kick()
}

// quiet returns once no reminder is due or being fired, or ctx ends.
// The records of the attempts that reminders fired make wait for it:
// while reminders due together (everyone's 9:00 meeting) are being
// fired, the writes that fire them have the database's writer to
// themselves, and the records follow, merged into few transactions.
func (r *ringer) quiet(ctx context.Context) {
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// busy notes, r.mu held, whether reminders are due or being fired, for
// quiet.
func (r *ringer) busy() {
	switch busy := len(r.due) > 0 || r.firing > 0; {
	case busy && r.idle == nil:
		r.idle = make(chan struct{})
	case !busy && r.idle != nil:
		close(r.idle)
		r.idle = nil
	}
}

// kick starts goroutines firing the due calls, up to ringers; r.mu is
// held.
func (r *ringer) kick() {
	defer r.busy()
	for n := len(r.due); !r.held && r.firing < ringers && n > 0; n -= maxRingBatch {
		r.firing++
		go r.run()
	}
}

// run fires the due calls, a batch at a time, until there are none.
func (r *ringer) run() {
	for {
		r.mu.Lock()
		var batch []*ringCall
		n := 0
		for ; n < len(r.due) && len(batch) < maxRingBatch; n++ {
			if c := r.due[n]; !c.gone {
				c.taken = true
				batch = append(batch, c)
			}
		}
		r.due = r.due[n:]
		if len(r.due) == 0 {
			r.due = nil
		}
		if len(batch) == 0 {
			r.firing--
			r.busy()
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		rs := make([]*toRing, len(batch))
		for i, c := range batch {
			rs[i] = c.r
		}
		errs := r.fire(rs)
		for _, c := range batch {
			c.out <- errs[c.r.rec.FireKey]
		}
	}
}
