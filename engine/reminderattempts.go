package engine

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// A fired reminder's deliveries have no job of their own: the worker of
// the reminder's job, which still holds that job (no other worker or
// replica can run it meanwhile), makes their first attempts as soon as
// the write that fired it is durable. It saves each reminder of
// everyone's 9:00 meeting a delivery job's insert, fetch (at most 16 jobs
// every 50 ms per channel) and completion, and a read of what the firing
// has in hand. If notifyd stops between the firing and an attempt, the
// job is run again (River's retry, or the rescue of the jobs of a killed
// process at start) and sends what was never attempted (sendLeft).
//
// The attempts' outcomes are recorded as a batch job records them
// (batchRecorder: each committed at once, a temporary failure retried by
// a job of the delivery's own), but only once no reminder is being
// fired (ringer.quiet), so that the writes that fire the others due then
// are not kept waiting by these records.

// sendFired makes the first attempt at each delivery of the reminder t
// that this worker's call fired (t.fired).
func (e *Engine) sendFired(ctx context.Context, job *river.Job[FireReminderArgs], t *toRing) error {
	r := t.fired
	at := r.at.Truncate(time.Microsecond) // as stored
	nr := r.nr
	nr.System, nr.Principal, nr.Status, nr.CreatedAt = r.rec.System, r.rec.Principal, store.NotificationDelivering, at
	notifications := map[string]*store.NotificationRecord{nr.ID: &nr}
	deliveries := make(map[string]*store.DeliveryRecord, len(r.deliveries))
	ids := make([]string, len(r.deliveries))
	for i, d := range r.deliveries {
		d.System, d.Principal, d.Status = r.rec.System, r.rec.Principal, store.DeliveryQueued
		d.CreatedAt, d.UpdatedAt, d.QueuedAt = at, at, at
		deliveries[d.ID], ids[i] = &d, d.ID
	}
	return e.reminderAttempts(ctx, job, t, ids, deliveries, notifications)
}

// sendLeft makes, for a run again of the job of the fired reminder t, the
// first attempt at each of its deliveries never attempted. The run that
// fired it may still be making them (its job still running): then this
// run waits and looks again later. Deliveries attempted before have jobs
// of their own for their retries.
func (e *Engine) sendLeft(ctx context.Context, job *river.Job[FireReminderArgs], t *toRing) error {
	// First whether another run is under way, then what is left: a run
	// that ended after this look recorded its attempts before.
	others, err := e.queue.otherRunning(ctx, job.Kind, job.Args.FireKey, job.ID)
	if err != nil {
		return err
	}
	if others {
		return river.JobSnooze(reminderLead)
	}
	deliveries, notifications, err := e.db.ReminderDeliveries(ctx, digest("reminder", job.Args.FireKey))
	if err != nil {
		return err
	}
	var ids []string
	for id := range deliveries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return e.reminderAttempts(ctx, job, t, ids, deliveries, notifications)
}

// reminderAttempts makes the first attempts at the deliveries ids of the
// reminder t, at once if there are several (each channel gets it on
// time), and returns the first error.
func (e *Engine) reminderAttempts(ctx context.Context, job *river.Job[FireReminderArgs], t *toRing, ids []string,
	deliveries map[string]*store.DeliveryRecord, notifications map[string]*store.NotificationRecord) error {
	attempts := func(ids []string) error {
		subs := &subscriptionCache{store: e.o.Subscriptions}
		subs.fill(t.subs)
		rec := &batchRecorder{e: e, wait: e.ringer.quiet}
		err := e.firstAttempts(ctx, job.ID, job.MaxAttempts, ids, deliveries, notifications, subs, rec)
		return cmp.Or(err, rec.end(ctx))
	}
	if len(ids) <= 1 {
		return attempts(ids)
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = attempts([]string{id}) })
	}
	wg.Wait()
	return cmp.Or(errs...)
}

// otherRunning reports whether a job of kind for fire key key other than
// self is running.
func (q *Queue) otherRunning(ctx context.Context, kind, key string, self int64) (bool, error) {
	where := `json_extract(args, '$.fire_key') = @key`
	if q.db.Postgres() {
		where = `args->>'fire_key' = @key`
	}
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(kind).States(rivertype.JobStateRunning).
		Where(where, river.NamedArgs{"key": key}).First(10))
	if err != nil {
		return false, err
	}
	for _, j := range res.Jobs {
		if j.ID != self {
			return true, nil
		}
	}
	return false, nil
}

// fill caches subs, as read by the reminder's worker ahead of its trigger.
func (c *subscriptionCache) fill(subs []*notifyd.Subscription) {
	for _, s := range subs {
		if c.read == nil {
			c.read = make(map[string]cachedSubscription, len(subs))
		}
		c.read[s.ID] = cachedSubscription{sub: s}
	}
}
