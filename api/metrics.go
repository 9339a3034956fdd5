package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// Metrics are the API's Prometheus collectors.
type Metrics struct {
	pingsAccepted    prometheus.Counter
	pingsRejected    *prometheus.CounterVec
	principalsQueued prometheus.Counter
	pingsCoalesced   prometheus.Counter
	httpDuration     *prometheus.HistogramVec
	writeBatch       prometheus.Histogram
	writeCommit      prometheus.Histogram
	writeFlush       prometheus.Histogram
	publish          publishMetrics
}

// ObserveWrite records one shared write transaction of the store (see
// store.DB.ObserveWrites).
func (m *Metrics) ObserveWrite(s store.WriteStats) {
	m.writeBatch.Observe(float64(s.Writes))
	m.writeCommit.Observe(s.Commit.Seconds())
	if s.Flushed {
		m.writeFlush.Observe(s.Flush.Seconds())
	}
}

// Rejection reasons, the `reason` label of notifyd_pings_rejected_total.
const (
	rejectMalformed     = "malformed"
	rejectInvalid       = "invalid"
	rejectTooLarge      = "too_large"
	rejectMediaType     = "media_type"
	rejectMissingToken  = "missing_token"
	rejectUnknownSystem = "unknown_system"
	rejectBadToken      = "bad_token"
	rejectBadHref       = "bad_href"
	rejectUnavailable   = "unavailable"
)

// NewMetrics registers the API's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		pingsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_pings_accepted_total", Help: "Pings accepted (answered 202).",
		}),
		pingsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifyd_pings_rejected_total", Help: "Pings refused, by reason.",
		}, []string{"reason"}),
		principalsQueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_principals_queued_total", Help: "Syncs durably queued by accepted pings: of a principal named, or of the calendars of the owner of a calendar named.",
		}),
		pingsCoalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifyd_principals_coalesced_total", Help: "Syncs (of a principal, or of an owner's calendars) whose unfinished job a ping joined instead of adding one.",
		}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "notifyd_http_request_duration_seconds",
			Help:    "HTTP request latency by route, method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		writeBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifyd_write_batch_writes",
			Help:    "Writes (pings, delivery records, API changes) sharing one database transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		writeCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifyd_write_commit_seconds",
			Help:    "Time to commit one shared write transaction, before its flush to disk.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		writeFlush: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifyd_write_flush_seconds",
			Help:    "Time of the write-ahead log flush (fdatasync) that made shared write transactions durable (SQLite).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
	}
	for _, r := range []string{rejectMalformed, rejectInvalid, rejectTooLarge, rejectMediaType, rejectMissingToken,
		rejectUnknownSystem, rejectBadToken, rejectBadHref, rejectUnavailable} {
		m.pingsRejected.WithLabelValues(r)
	}
	m.publish = newPublishMetrics(reg)
	reg.MustRegister(m.pingsAccepted, m.pingsRejected, m.principalsQueued, m.pingsCoalesced, m.httpDuration,
		m.writeBatch, m.writeCommit, m.writeFlush)
	return m
}

// countsCollector reports gauges by one label, read from the database at
// each scrape: the backlog by kind of work, the dead letters by channel.
// The keys listed are reported as 0 when read finds none.
type countsCollector struct {
	read func(context.Context) (map[string]int64, error)
	keys []string
	log  *slog.Logger
	what string // what is counted and the metric's name, for the log
	name string
	desc *prometheus.Desc
}

func newCountsCollector(name, help, label, what string, read func(context.Context) (map[string]int64, error),
	keys []string, log *slog.Logger) *countsCollector {
	return &countsCollector{read: read, keys: keys, log: log, what: what, name: name,
		desc: prometheus.NewDesc(name, help, []string{label}, nil)}
}

func (d *countsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *countsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := d.read(ctx)
	if err != nil {
		d.log.Warn("metrics: could not count "+d.what+"; "+d.name+" is missing from this scrape", "err", err)
		return
	}
	for _, k := range d.keys {
		counts[k] += 0
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(n), k)
	}
}

// RegisterBacklog registers the gauge notifyd_backlog{work}: the work
// outstanding, by kind (syncs, deliveries, policies; each reported, 0 when
// none), which backlog reads from the database at each scrape
// (store.DB.Backlog). It is the same on every replica of a database.
func RegisterBacklog(reg prometheus.Registerer, backlog func(context.Context) (map[string]int64, error), log *slog.Logger) {
	reg.MustRegister(newCountsCollector("notifyd_backlog",
		"Work outstanding, by kind: principals to sync, deliveries to send (queued or retrying), after-delivery policies to apply.",
		"work", "the backlog", backlog, store.BacklogKinds, log))
}

// RegisterDeadLetters registers the gauge notifyd_dead_letters{channel}:
// the failed deliveries per channel (every channel, 0 when none failed),
// which counts reads from the database at each scrape
// (store.DB.DeadLetterCounts).
func RegisterDeadLetters(reg prometheus.Registerer, counts func(context.Context) (map[string]int64, error), log *slog.Logger) {
	var channels []string
	for _, c := range notifyd.Channels {
		channels = append(channels, string(c))
	}
	reg.MustRegister(newCountsCollector("notifyd_dead_letters", "Deliveries that failed for good (GET /v1/dead-letters), by channel.",
		"channel", "dead letters", counts, channels, log))
}
