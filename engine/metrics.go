package engine

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd/caldavclient"
)

// metrics are the engine's Prometheus collectors.
type metrics struct {
	deliveries    *prometheus.CounterVec
	syncs         *prometheus.CounterVec
	notifications *prometheus.CounterVec
	// suppressed counts deliveries not sent because the recipient made
	// the change.
	suppressed prometheus.Counter
	reminderMetrics
	// updates counts the calendar updates told, by outcome.
	updates *prometheus.CounterVec
}

// updateOutcomes are the values of notifyd_updates_total{outcome}.
var updateOutcomes = []string{"sent", "no-recipient", "unknown-author", "suppressed", "no-change"}

func newMetrics(reg prometheus.Registerer, systems map[string]System) *metrics {
	m := &metrics{
		deliveries: counterVec("notifyd_deliveries_total",
			"Delivery attempts by channel and outcome (sent, failed, retrying, skipped).", "channel", "status"),
		syncs: counterVec("notifyd_syncs_total",
			"Principal syncs by system and outcome (ok, failed, gone).", "system", "outcome"),
		notifications: counterVec("notifyd_notifications_total",
			"New notifications found, by system and type; type \"dead\" for unparseable ones.", "system", "type"),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "notifyd_deliveries_suppressed_total",
			Help: "Deliveries recorded as suppressed, not sent: the recipient made the change they tell of."}),
		reminderMetrics: newReminderMetrics(),
		updates: counterVec("notifyd_updates_total",
			"Calendar updates told once their burst window closed, by outcome: sent (to the principal's subscriptions), "+
				"no-recipient (no method wants its type), unknown-author (a change to the principal's own calendar, "+
				"whose author the server does not say), suppressed (made by the recipient), no-change (the burst's net change is nothing a person sees).", "outcome"),
	}
	for _, o := range updateOutcomes {
		m.updates.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(append(m.collectors(), m.deliveries, m.syncs, m.notifications, m.suppressed, m.updates, &caldavCollector{systems: systems,
			desc: prometheus.NewDesc("notifyd_caldav_requests_total", "CalDAV requests sent, by system and method.",
				[]string{"system", "method"}, nil),
			conns: prometheus.NewDesc("notifyd_caldav_connections_total",
				"Connections opened to each system's CalDAV server (keep-alive connections are reused).", []string{"system"}, nil)})...)
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
