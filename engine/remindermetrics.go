package engine

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/store"
)

// reminderMetrics are the engine's collectors of reminders.
type reminderMetrics struct {
	calendarSyncs *prometheus.CounterVec
	reminders     *prometheus.CounterVec
	remindersLate prometheus.Histogram
	remindersSkip *prometheus.CounterVec
}

// Reasons a reminder is skipped, the values of
// notifyd_reminders_skipped_total{reason}: late (beyond its channel's
// grace, or after its instance ended) and the alarm package's.
var skipReasons = []string{"late", "acknowledged", "snoozed", "cancelled", "declined", "completed", "before_written", "other_recipients"}

// skipped counts a reminder skipped for reason (an alarm.Skip, or
// "late"), under both counters.
func (m *reminderMetrics) skipped(reason string) {
	reason = strings.ReplaceAll(reason, "-", "_")
	if !slices.Contains(skipReasons, reason) {
		reason = "other"
	}
	m.reminders.WithLabelValues(store.ReminderSkipped).Inc()
	m.remindersSkip.WithLabelValues(reason).Inc()
}

func newReminderMetrics() reminderMetrics {
	m := reminderMetrics{
		calendarSyncs: counterVec("notifyd_calendars_synced_total",
			"Syncs of a principal's calendars for reminders and calendar updates, by system and outcome (ok, failed, resync: a refused sync token).", "system", "outcome"),
		reminders: counterVec("notifyd_reminders_total",
			"Alarm instances by outcome: scheduled, fired, skipped, cancelled.", "outcome"),
		remindersLate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifyd_reminder_lateness_seconds",
			Help:    "Time from a reminder's trigger to its hand-off to its channels (the creation of its deliveries).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200},
		}),
		remindersSkip: counterVec("notifyd_reminders_skipped_total",
			"Alarm instances not fired, by reason.", "reason"),
	}
	for _, o := range []string{store.ReminderScheduled, store.ReminderFired, store.ReminderSkipped, store.ReminderCancelled} {
		m.reminders.WithLabelValues(o)
	}
	for _, r := range append(skipReasons, "other") {
		m.remindersSkip.WithLabelValues(r)
	}
	return m
}

// collectors are m's collectors, to register.
func (m *reminderMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calendarSyncs, m.reminders, m.remindersLate, m.remindersSkip}
}
