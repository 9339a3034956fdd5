package engine

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/caldavclient"
	"github.com/notifyd/notifyd/store"
)

// metrics are the engine's Prometheus collectors.
type metrics struct {
	deliveries    *prometheus.CounterVec
	syncs         *prometheus.CounterVec
	notifications *prometheus.CounterVec
	calendarSyncs *prometheus.CounterVec
	reminders     *prometheus.CounterVec
	remindersLate prometheus.Histogram
	remindersSkip *prometheus.CounterVec
	// suppressed counts deliveries not sent because the recipient made
	// the change.
	suppressed prometheus.Counter
}

// Reasons a reminder is skipped, the values of
// notifyd_reminders_skipped_total{reason}: late (beyond its channel's
// grace, or after its instance ended) and the alarm package's.
var skipReasons = []string{"late", "acknowledged", "snoozed", "cancelled", "declined", "completed", "before_written", "other_recipients"}

// skipped counts a reminder skipped for reason (an alarm.Skip, or
// "late"), under both counters.
func (m *metrics) skipped(reason string) {
	reason = strings.ReplaceAll(reason, "-", "_")
	if !slices.Contains(skipReasons, reason) {
		reason = "other"
	}
	m.reminders.WithLabelValues(store.ReminderSkipped).Inc()
	m.remindersSkip.WithLabelValues(reason).Inc()
}

func newMetrics(reg prometheus.Registerer, systems map[string]System) *metrics {
	m := &metrics{
		deliveries: counterVec("notifyd_deliveries_total",
			"Delivery attempts by channel and outcome (sent, failed, retrying, skipped).", "channel", "status"),
		syncs: counterVec("notifyd_syncs_total",
			"Principal syncs by system and outcome (ok, failed, gone).", "system", "outcome"),
		notifications: counterVec("notifyd_notifications_total",
			"New notifications found, by system and type; type \"dead\" for unparseable ones.", "system", "type"),
		calendarSyncs: counterVec("notifyd_calendars_synced_total",
			"Syncs of a principal's calendars for reminders, by system and outcome (ok, failed, resync: a refused sync token).", "system", "outcome"),
		reminders: counterVec("notifyd_reminders_total",
			"Alarm instances by outcome: scheduled, fired, skipped, cancelled.", "outcome"),
		remindersLate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifyd_reminder_lateness_seconds",
			Help:    "Time from a reminder's trigger to its hand-off to its channels (the creation of its deliveries).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200},
		}),
		remindersSkip: counterVec("notifyd_reminders_skipped_total",
			"Alarm instances not fired, by reason.", "reason"),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "notifyd_deliveries_suppressed_total",
			Help: "Deliveries recorded as suppressed, not sent: the recipient made the change they tell of."}),
	}
	for _, o := range []string{store.ReminderScheduled, store.ReminderFired, store.ReminderSkipped, store.ReminderCancelled} {
		m.reminders.WithLabelValues(o)
	}
	for _, r := range append(skipReasons, "other") {
		m.remindersSkip.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.syncs, m.notifications, m.calendarSyncs, m.reminders, m.remindersLate, m.remindersSkip, m.suppressed, &caldavCollector{systems: systems,
			desc: prometheus.NewDesc("notifyd_caldav_requests_total", "CalDAV requests sent, by system and method.",
				[]string{"system", "method"}, nil),
			conns: prometheus.NewDesc("notifyd_caldav_connections_total",
				"Connections opened to each system's CalDAV server (keep-alive connections are reused).", []string{"system"}, nil)})
	}
	return m
}

// counterVec is a counter by labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// caldavCollector reports the request counters of each system's client.
type caldavCollector struct {
	systems     map[string]System
	desc, conns *prometheus.Desc
}

func (c *caldavCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.conns }

func (c *caldavCollector) Collect(ch chan<- prometheus.Metric) {
	for name, sys := range c.systems {
		counted, ok := sys.CalDAV.(interface{ Stats() caldavclient.Stats })
		if !ok {
			continue
		}
		s := counted.Stats()
		for method, n := range map[string]uint64{"PROPFIND": s.PropFind, "REPORT": s.Report, "GET": s.Get,
			"DELETE": s.Delete, "PUT": s.Put, "OTHER": s.Other} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), name, method)
		}
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.CounterValue, float64(s.Connections), name)
	}
}
