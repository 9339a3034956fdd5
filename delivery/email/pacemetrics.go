package email

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The pacing metrics are labelled by pacing group: a provider's name
// (channels.smtp.per_domain.providers), or "other" for every domain in
// none. Never by domain: recipients' domains are without number.
var (
	paceRefusalsDesc = prometheus.NewDesc("notifyd_email_pace_refusals_total",
		"Rate refusals (421/450/451 speaking of rate) from recipient domains, by pacing group.", []string{"group"}, nil)
	paceDeferredDesc = prometheus.NewDesc("notifyd_email_pace_deferred_total",
		"Email sends put back, to be retried at their turn, because their domain's pace had no room for them within a second, by pacing group.", []string{"group"}, nil)
	paceWaitingDesc = prometheus.NewDesc("notifyd_email_pace_waiting",
		"Email sends waiting now (at most a second) for their domain's pace, by pacing group.", []string{"group"}, nil)
	paceSlowedDesc = prometheus.NewDesc("notifyd_email_pace_slowed_domains",
		"Recipient domains slowed now after a rate refusal, by pacing group (a provider counts as one).", []string{"group"}, nil)
	paceRateDesc = prometheus.NewDesc("notifyd_email_pace_rate",
		"A provider group's pace now, in messages per second (0: unlimited); below its configured rate while it is slowed.", []string{"group"}, nil)
)

// describe and collect report the pacing metrics.
func (p *pacer) describe(ch chan<- *prometheus.Desc) {
	ch <- paceRefusalsDesc
	ch <- paceDeferredDesc
	ch <- paceWaitingDesc
	ch <- paceSlowedDesc
	ch <- paceRateDesc
}

func (p *pacer) collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	slowed := map[*paceGroup]int{}
	rates := map[*paceGroup]float64{}
	p.mu.Lock()
	for _, g := range p.groups {
		if d := g.shared; d != nil {
			rates[g] = p.limitOf(d, now)
			if now.Before(d.until) {
				slowed[g]++
			}
		}
	}
	for _, d := range p.domains {
		if now.Before(d.until) {
			slowed[d.g]++
		}
	}
	p.mu.Unlock()
	for _, g := range p.groups {
		ch <- prometheus.MustNewConstMetric(paceRefusalsDesc, prometheus.CounterValue, float64(g.refusals.Load()), g.name)
		ch <- prometheus.MustNewConstMetric(paceDeferredDesc, prometheus.CounterValue, float64(g.deferred.Load()), g.name)
		ch <- prometheus.MustNewConstMetric(paceWaitingDesc, prometheus.GaugeValue, float64(g.waiting.Load()), g.name)
		ch <- prometheus.MustNewConstMetric(paceSlowedDesc, prometheus.GaugeValue, float64(slowed[g]), g.name)
		if g.shared != nil {
			ch <- prometheus.MustNewConstMetric(paceRateDesc, prometheus.GaugeValue, rates[g], g.name)
		}
	}
}
