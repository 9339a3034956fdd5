package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/preferences"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// CalDAV is what the engine needs of a calendar system's CalDAV server;
// caldavclient.Client implements it.
type CalDAV interface {
	NotificationURL(ctx context.Context, principal string) (string, error)
	ForgetNotificationURL(principal string)
	Sync(ctx context.Context, collection, token string) (*caldavclient.SyncResult, error)
	Get(ctx context.Context, href string) (body []byte, etag string, err error)
	Delete(ctx context.Context, href, etag string) error
	Put(ctx context.Context, href, etag string, body []byte, contentType string) error
	// CalendarName reads the display name of a calendar a notification
	// to principal names; caldavclient.ErrNotCalendar when href is not a
	// calendar of the principal's calendar home (nothing is read).
	CalendarName(ctx context.Context, principal, href string) (string, error)
	// CalendarsListedSince lists the principal's calendars (for
	// reminders) from a listing of its calendar home made at or after
	// since, a fresh one when since is zero (see caldavclient).
	CalendarsListedSince(ctx context.Context, principal string, since time.Time) ([]caldavclient.Calendar, error)
	// CalendarUserAddresses returns the principal's calendar user
	// addresses (CALDAV:calendar-user-address-set), for reminders: its
	// declined instances do not ring.
	CalendarUserAddresses(ctx context.Context, principal string) ([]string, error)
	// OthersCalendarsListedSince lists the calendars of other principals
	// in the principal's calendar home (from the same listings as
	// CalendarsListedSince): those shared with it are among them.
	OthersCalendarsListedSince(ctx context.Context, principal string, since time.Time) ([]caldavclient.Calendar, error)
	// MultiGet reads objects of a calendar (calendar-multiget).
	MultiGet(ctx context.Context, calendar string, hrefs []string) ([]caldavclient.Object, error)
}

// System is a calendar system as the engine sees it.
type System struct {
	Name   string
	CalDAV CalDAV
	// AfterDelivery is what to do with a notification once every delivery
	// of it is final: "delete", "mark" or "keep".
	AfterDelivery string
	// Policy is what the system makes always immediate and urgent in
	// every subscription's preferences; nil is
	// preferences.DefaultPolicy().
	Policy *preferences.Policy
}

// Options configure an Engine.
type Options struct {
	DB            *store.DB
	Logger        *slog.Logger
	Systems       []System
	Subscriptions *subscriptions.Service
	// Channels are the configured delivery channels by name.
	Channels map[notifyd.Channel]delivery.Channel
	// UnsubscribeURL builds the one-click unsubscribe link of a delivery
	// method as stored now (the link is bound to its enabled period); nil
	// for none.
	UnsubscribeURL func(subscriptionID string, method notifyd.DeliveryMethod) string
	// PreferencesURL builds the signed link to the preference page of a
	// subscription, for a message through method ("" for none: the
	// method's channel does not carry one); nil for none.
	PreferencesURL func(subscriptionID string, method notifyd.DeliveryMethod) string
	// SyncWorkers and DeliveryWorkers size the worker pools (defaults 8
	// and 16 per channel).
	SyncWorkers, DeliveryWorkers int
	// PollInterval is how often idle workers look for new jobs (default
	// 200ms; the embedded database has no push notification).
	PollInterval time.Duration
	// RetryBase and RetryMax bound the exponential backoff between
	// attempts (defaults 1s and 5m); MaxAttempts caps them (default 25).
	RetryBase, RetryMax time.Duration
	MaxAttempts         int
	// MaxAge is how old a delivery may get while it is retried; older, it
	// is given up (default 24h).
	MaxAge time.Duration
	// JobTimeout bounds one run of a job (default 5m); RescueAfter is how
	// long a job may stay running before it is run again, taken to belong
	// to a process that died (default 10m, more than JobTimeout).
	JobTimeout, RescueAfter time.Duration
	// SweepInterval is how often the leader looks for notifications whose
	// after-delivery policy an interrupted run never applied (default 1m).
	SweepInterval time.Duration
	// Reminders configure the calendar alarms notifyd rings.
	Reminders ReminderOptions
	// Updates configure the calendar update notifications.
	Updates UpdateOptions
	// Retention configures the pruning of history.
	Retention RetentionOptions
	// Registerer, if not nil, gets the engine's metrics.
	Registerer prometheus.Registerer
	// Now, if not nil, is the clock the subscriptions' preferences are
	// applied by (tests); default time.Now.
	Now func() time.Time
	// OwnsQueue says the database belongs to this process alone (the
	// embedded SQLite file): Start then runs again at once the jobs a
	// killed run left running, rather than after River's stuck-job rescue
	// (an hour). Never set it when other processes run jobs on the same
	// database.
	OwnsQueue bool
}

// Engine runs notifyd's jobs: principal syncs, deliveries, and the
// after-delivery policy.
type Engine struct {
	o       Options
	log     *slog.Logger
	db      *store.DB
	queue   *Queue
	systems map[string]System
	names   *nameCache
	metrics *metrics
	ringer  *ringer
	plans   planCache
	// pruneMetrics are the pruner's.
	pruneMetrics *pruneMetrics
	// stopping ends when Stop stops waiting for the running jobs (each
	// Start makes a new one). It bounds
	// what must outlive a job's own context: recording a message the
	// provider accepted must not end with the job's timeout, or the job
	// would run again and send it twice.
	stopping    context.Context
	stopRunning context.CancelFunc
}

// New builds the engine and its job queue. Start runs the workers.
func New(o Options) (*Engine, error) {
	orDefault(&o.SyncWorkers, 8)
	orDefault(&o.DeliveryWorkers, 16)
	orDefault(&o.PollInterval, 200*time.Millisecond)
	orDefault(&o.RetryBase, time.Second)
	orDefault(&o.RetryMax, 5*time.Minute)
	orDefault(&o.MaxAttempts, 25)
	orDefault(&o.SweepInterval, time.Minute)
	orDefault(&o.MaxAge, 24*time.Hour)
	orDefault(&o.JobTimeout, 5*time.Minute)
	o.Reminders = o.Reminders.withDefaults()
	orDefault(&o.Updates.BurstWindow, defaultBurstWindow)
	o.Retention = o.Retention.withDefaults()
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = max(10*time.Minute, 2*o.JobTimeout)
	}
	e := &Engine{o: o, log: o.Logger, db: o.DB, systems: make(map[string]System), names: newNameCache(4096)}
	for _, s := range o.Systems {
		e.systems[s.Name] = s
	}
	e.metrics = newMetrics(o.Registerer, e.systems)
	e.pruneMetrics = newPruneMetrics(o.Registerer, o.Retention.Rules)
	e.ringer = newRinger(e.fireReminders)
	workers := river.NewWorkers()
	river.AddWorker(workers, &syncPrincipalWorker{e: e})
	river.AddWorker(workers, &retryNotificationWorker{e: e})
	river.AddWorker(workers, &deliverWorker{e: e})
	river.AddWorker(workers, &deliverBatchWorker{e: e})
	river.AddWorker(workers, &finishWorker{e: e})
	river.AddWorker(workers, &sweepWorker{e: e})
	river.AddWorker(workers, &fireReminderWorker{e: e})
	river.AddWorker(workers, &syncCalendarsWorker{e: e})
	river.AddWorker(workers, &pollCalendarsWorker{e: e})
	river.AddWorker(workers, &expandRemindersWorker{e: e})
	river.AddWorker(workers, &sendUpdateWorker{e: e})
	river.AddWorker(workers, &publishWorker{e: e})
	river.AddWorker(workers, &releaseHeldWorker{e: e})
	river.AddWorker(workers, &sendDigestWorker{e: e})
	river.AddWorker(workers, &pruneWorker{e: e})
	// Every queue is polled, which costs a query each time: queues with
	// little to do are polled rarely. The finish queue only gets the
	// policies that failed for now and the sweep; a channel that is not
	// configured only gets deliveries that will fail saying so. Only the
	// polling is slow: once a fetch finds work (a backlog after an
	// outage), the next fetch comes as soon as a worker is free, as in the
	// other queues. On PostgreSQL, inserted jobs also wake the workers of
	// every replica (LISTEN/NOTIFY), so polling is only the fallback
	// there: at most once a second per queue and replica.
	poll := o.PollInterval
	if o.DB.Postgres() {
		poll = max(poll, time.Second)
	}
	cooldown := min(50*time.Millisecond, o.PollInterval)
	slow := func(workers int, every time.Duration) river.QueueConfig {
		every = max(every, poll)
		return river.QueueConfig{MaxWorkers: workers, FetchPollInterval: every, FetchCooldown: cooldown}
	}
	queues := map[string]river.QueueConfig{
		QueueSync:   {MaxWorkers: o.SyncWorkers},
		QueueFinish: slow(o.SyncWorkers, time.Second),
		// A reminder's worker mostly waits for its trigger (see
		// reminderLead): many wait at once for everyone's 9:00 meeting.
		QueueReminders: {MaxWorkers: reminderWorkers},
		QueueCalendars: {MaxWorkers: o.SyncWorkers},
		QueueUpdates:   {MaxWorkers: o.SyncWorkers},
		QueuePublish:   {MaxWorkers: o.SyncWorkers},
		QueueHeld:      {MaxWorkers: 1},
	}
	for _, ch := range notifyd.Channels {
		queues[deliverQueue(ch)] = river.QueueConfig{MaxWorkers: o.DeliveryWorkers}
		if o.Channels[ch] == nil {
			queues[deliverQueue(ch)] = slow(o.DeliveryWorkers, 30*time.Second)
		}
	}
	q, err := newQueue(o.DB, &river.Config{
		Logger:               o.Logger,
		Workers:              workers,
		Queues:               queues,
		FetchCooldown:        cooldown,
		FetchPollInterval:    poll,
		MaxAttempts:          o.MaxAttempts,
		RetryPolicy:          &retryPolicy{base: o.RetryBase, max: o.RetryMax},
		PeriodicJobs:         e.periodicJobs(),
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
	})
	if err != nil {
		return nil, err
	}
	e.queue = q
	return e, nil
}

// orDefault sets *v to d unless *v is positive.
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// periodicJobs are the jobs River runs on the leader at intervals.
func (e *Engine) periodicJobs() []*river.PeriodicJob {
	every := func(d time.Duration, args river.JobArgs) *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(d), func() (river.JobArgs, *river.InsertOpts) { return args, nil },
			&river.PeriodicJobOpts{RunOnStart: true})
	}
	jobs := []*river.PeriodicJob{every(e.o.SweepInterval, SweepArgs{})}
	r := e.o.Reminders
	if len(e.calendarTypes()) > 0 {
		// Polls run at a tenth of the interval so that each principal is
		// synced within about one interval of the last time.
		jobs = append(jobs, every(max(r.PollInterval/10, time.Second), PollCalendarsArgs{}))
	}
	if r.Enabled {
		jobs = append(jobs, every(max(r.Horizon/48, time.Minute), ExpandRemindersArgs{}))
	}
	if e.o.Retention.enabled() {
		jobs = append(jobs, every(e.o.Retention.Interval, PruneArgs{}))
	}
	return jobs
}

// Queue is the engine's job queue, for the intake to insert into.
func (e *Engine) Queue() *Queue { return e.queue }

// Start runs the workers until Stop. An engine stopped may start again.
func (e *Engine) Start(ctx context.Context) error {
	e.stopping, e.stopRunning = context.WithCancel(context.Background())
	if e.o.OwnsQueue {
		n, err := e.queue.rescueOrphans(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			e.log.Warn("jobs left running by a run that did not stop cleanly run again now", "jobs", n)
		}
	}
	return e.queue.worker.Start(ctx)
}

// Stop lets running jobs finish until ctx ends, then cancels them (the
// cancelled ones run again after a restart), and closes the channels'
// connections.
func (e *Engine) Stop(ctx context.Context) error {
	stopRunning := e.stopRunning
	if stopRunning == nil { // never started
		stopRunning = func() {}
	}
	err := e.queue.worker.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		stopRunning()
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = e.queue.worker.StopAndCancel(hard)
	}
	stopRunning()
	for _, ch := range e.o.Channels {
		if c, ok := ch.(io.Closer); ok {
			c.Close()
		}
	}
	return err
}

// retryPolicy is exponential backoff with full jitter: a random wait
// between 0 and base·2^attempt, capped at max. (A provider's Retry-After
// is honoured by the worker snoozing the job for that long instead.)
type retryPolicy struct{ base, max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (p *retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	ceiling := p.base << min(job.Attempt, 30)
	if ceiling <= 0 || ceiling > p.max {
		ceiling = p.max
	}
	return time.Now().Add(time.Duration(rand.Int64N(int64(ceiling) + 1)))
}

// untilStop is ctx without its deadline or cancellation (a job's timeout),
// ended instead when Stop stops waiting for the running jobs.
func (e *Engine) untilStop(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(e.stopping, cancel)
	return c, func() { stop(); cancel() }
}

// preferencesURL is the preference link of a message to method of
// subscription subID ("" when Options.PreferencesURL is nil).
func (e *Engine) preferencesURL(subID string, method notifyd.DeliveryMethod) string {
	if e.o.PreferencesURL == nil {
		return ""
	}
	return e.o.PreferencesURL(subID, method)
}
