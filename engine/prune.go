package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/store"
)

// RetentionRule is a kind of history (store.PruneRule) and how long it is
// kept; Keep 0 keeps it for ever.
type RetentionRule struct {
	store.PruneRule
	Keep time.Duration
}

// RetentionOptions configure the pruning of history.
type RetentionOptions struct {
	// Rules are pruned in this order (deliveries before the notifications
	// they reference). None: nothing is pruned, and no job runs.
	Rules []RetentionRule
	// Interval is how often the leader queues a prune (default 1h).
	Interval time.Duration
	// Batch is how many rows one transaction deletes (default
	// store.DefaultPruneBatch).
	Batch int
	// Pause is how long the pruner waits after each batch, as a multiple
	// of the batch's time (default store.DefaultPrunePause).
	Pause float64
}

// withDefaults fills in the defaults.
func (o RetentionOptions) withDefaults() RetentionOptions {
	orDefault(&o.Interval, time.Hour)
	orDefault(&o.Batch, store.DefaultPruneBatch)
	if o.Pause <= 0 {
		o.Pause = store.DefaultPrunePause
	}
	return o
}

// enabled reports whether some rule prunes.
func (o RetentionOptions) enabled() bool {
	for _, r := range o.Rules {
		if r.Keep > 0 {
			return true
		}
	}
	return false
}

// PruneArgs is the periodic job that deletes the history past its
// retention (RetentionOptions), in small batches. River queues it on the
// leader only.
type PruneArgs struct{}

// Kind is the job's River kind.
func (PruneArgs) Kind() string { return "prune_history" }

// InsertOpts puts the job in the finish queue, with the sweep.
func (PruneArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueFinish} }

// pruneWorker runs a prune; one at a time in a process.
type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	e       *Engine
	running sync.Mutex
}

// Timeout lets a prune run for up to an interval: a large backlog (the
// first run on an old database) is worked through at the pace that
// spares intake, and what is left is taken up by the next run.
func (w *pruneWorker) Timeout(*river.Job[PruneArgs]) time.Duration { return w.e.o.Retention.Interval }

// Work implements river.Worker.
func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	if !w.running.TryLock() {
		return nil // the previous run is still at it
	}
	defer w.running.Unlock()
	return w.e.prune(ctx, time.Now())
}

// pruneMetrics are the pruner's Prometheus collectors.
type pruneMetrics struct {
	rows    *prometheus.CounterVec
	lastRun prometheus.Gauge
	took    prometheus.Gauge
}

func newPruneMetrics(reg prometheus.Registerer, rules []RetentionRule) *pruneMetrics {
	m := &pruneMetrics{
		rows: counterVec("notifyd_pruned_rows_total",
			"Rows of history deleted past their retention, by table.", "table"),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "notifyd_prune_last_run_timestamp_seconds",
			Help: "When the last prune of history past its retention ended (unix time), on this replica."}),
		took: prometheus.NewGauge(prometheus.GaugeOpts{Name: "notifyd_prune_last_run_duration_seconds",
			Help: "How long the last prune of history took, pauses included."}),
	}
	for _, r := range rules {
		m.rows.WithLabelValues(r.Name)
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.lastRun, m.took)
	}
	return m
}

// prune deletes, as the run at now, the history of every rule past its
// retention, batch by batch, pausing after each so that the writes of
// intake and deliveries go on; it logs what it deleted. It stops early,
// keeping what it deleted, when ctx ends.
func (e *Engine) prune(ctx context.Context, now time.Time) error {
	o := e.o.Retention
	start := time.Now()
	attrs := []any{}
	total := 0
	var err error
	for _, r := range o.Rules {
		if r.Keep <= 0 {
			continue
		}
		var n int
		n, err = e.pruneRule(ctx, r, now.Add(-r.Keep))
		total += n
		attrs = append(attrs, slog.Int(r.Name, n))
		if err != nil {
			break
		}
	}
	took := time.Since(start)
	e.pruneMetrics.lastRun.SetToCurrentTime()
	e.pruneMetrics.took.Set(took.Seconds())
	if err != nil {
		e.log.Warn("pruning history stopped; the next run goes on", append(attrs, "took", took, "err", err)...)
		return err
	}
	level := slog.LevelInfo
	if total == 0 {
		level = slog.LevelDebug
	}
	e.log.Log(ctx, level, "history past its retention pruned", append(attrs, "rows", total, "took", took)...)
	return nil
}

// pruneRule deletes the rows of r older than cutoff, a batch at a time,
// and returns how many it deleted.
func (e *Engine) pruneRule(ctx context.Context, r RetentionRule, cutoff time.Time) (int, error) {
	o := e.o.Retention
	rows := e.pruneMetrics.rows.WithLabelValues(r.Name)
	return e.db.Prune(ctx, r.PruneRule, cutoff, o.Batch, o.Pause, func(n int) { rows.Add(float64(n)) })
}
