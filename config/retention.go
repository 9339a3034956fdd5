package config

import (
	"log/slog"
	"time"
)

// Bounds of the retention settings, checked by Load.
const (
	// minRetention is the shortest retention of any history: shorter, an
	// operator could not find out what happened yesterday, and a
	// reminder's record could go before a calendar sync may still meet it.
	minRetention = 24 * time.Hour
	// minPruneInterval and maxPruneInterval bound retention.interval.
	minPruneInterval = time.Minute
	maxPruneInterval = 24 * time.Hour
	// maxPruneBatch bounds retention.batch: one transaction of more holds
	// the writer, and every ping waiting for it, too long.
	maxPruneBatch = 10000
	day           = 24 * time.Hour
)

// Retention configures how long notifyd keeps its history, and the job
// that prunes it (docs/configuration.md, "Retention", says what each
// keeps and why). A retention of 0 keeps that history for ever.
type Retention struct {
	// Deliveries is how long a final delivery is kept after it was
	// created and last changed (default 2160h, 90 days). Dead letters
	// (failed) are kept until an operator retries or discards them, then
	// for as long. A notification is kept as long as its deliveries, and
	// then for as long as a sync of its collection could meet it again.
	Deliveries time.Duration `koanf:"deliveries"`
	// Reminders is how long a reminder that rang, was skipped or
	// cancelled is kept after its trigger (default 720h, 30 days).
	Reminders time.Duration `koanf:"reminders"`
	// PublishedEvents is how long the record of a published event is kept
	// after its notification was made (default 168h, 7 days): within it,
	// a second publish of the same event is a duplicate.
	PublishedEvents time.Duration `koanf:"published_events"`
	// PendingUpdates is how long after its burst window closed a calendar
	// change that was never told is dropped (default 168h, 7 days).
	PendingUpdates time.Duration `koanf:"pending_updates"`
	// Audit is how long audit records are kept (default 2160h, 90 days).
	Audit time.Duration `koanf:"audit"`
	// Interval is how often the history is pruned (default 1h, between
	// 1m and 24h).
	Interval time.Duration `koanf:"interval"`
	// Batch is how many rows one pruning transaction deletes (default
	// 500, between 100 and 10000).
	Batch int `koanf:"batch"`
}

// defaultRetention returns the retention defaults.
func defaultRetention() Retention {
	return Retention{Deliveries: 90 * day, Reminders: 30 * day, PublishedEvents: 7 * day, PendingUpdates: 7 * day,
		Audit: 90 * day, Interval: time.Hour, Batch: 500}
}

// validate checks the retention settings.
func (r *Retention) validate(p *problems) {
	for _, k := range []struct {
		key string
		d   time.Duration
	}{
		{"retention.deliveries", r.Deliveries}, {"retention.reminders", r.Reminders},
		{"retention.published_events", r.PublishedEvents}, {"retention.pending_updates", r.PendingUpdates},
		{"retention.audit", r.Audit},
	} {
		if k.d != 0 && k.d < minRetention {
			p.add(k.key, "must be 0 (keep for ever) or at least 24h, e.g. 2160h for 90 days")
		}
	}
	if r.Interval < minPruneInterval || r.Interval > maxPruneInterval {
		p.add("retention.interval", "must be between 1m and 24h, e.g. 1h")
	}
	if r.Batch < 100 || r.Batch > maxPruneBatch {
		p.add("retention.batch", "must be between 100 and 10000, e.g. 500")
	}
}

// summary is the retention settings for the startup log line.
func (r *Retention) summary() slog.Attr {
	return slog.Group("retention", "deliveries", r.Deliveries.String(), "reminders", r.Reminders.String(),
		"published_events", r.PublishedEvents.String(), "pending_updates", r.PendingUpdates.String(),
		"audit", r.Audit.String(), "interval", r.Interval.String())
}
