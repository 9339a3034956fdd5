package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/bounce"
	"github.com/notifyd/notifyd/store"
)

// Outcomes of a report, the label outcome of notifyd_bounce_reports_total.
const (
	reportRecorded  = "recorded"         // applied to its delivery
	reportDuplicate = "duplicate"        // recorded before (sent twice, read by two replicas)
	reportNoSuch    = "unknown_delivery" // its delivery is gone (pruned) or no email
	reportIgnored   = "ignored"          // a report of success, or not-spam: nothing to do
	reportFailed    = "error"            // the database failed: the report comes again
)

// reportMetrics counts the bounce reports and complaints handed over by
// the listener and the mailbox, by kind (hard, soft, success, complaint,
// not-spam) and outcome.
type reportMetrics struct {
	reports *prometheus.CounterVec
}

func newReportMetrics(reg prometheus.Registerer) *reportMetrics {
	m := &reportMetrics{reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notifyd_bounce_reports_total",
		Help: "Bounce reports and complaints (feedback reports) received, by kind (hard, soft, success, complaint, not-spam) " +
			"and outcome (recorded, duplicate, unknown_delivery, ignored, error)."}, []string{"kind", "outcome"})}
	if reg != nil {
		reg.MustRegister(m.reports)
	}
	return m
}

func (m *reportMetrics) count(k bounce.Kind, outcome string) {
	if m != nil {
		m.reports.WithLabelValues(string(k), outcome).Inc()
	}
}

// recordReports applies each report the bounce listener or mailbox hands
// over to its delivery: a hard bounce marks a sent email bounced and puts
// its address on the suppression list (store.RecordBounce); a soft one is
// kept in the delivery's history; a complaint puts the delivery's address
// on the suppression list with reason complaint (store.RecordComplaint);
// a report of success, and a not-spam report, change nothing. An error
// makes the listener answer 451, and leaves the report in the mailbox, so
// that it comes again.
func recordReports(db *store.DB, log *slog.Logger, m *reportMetrics) bounce.Handler {
	return func(ctx context.Context, r bounce.Report) error {
		var outcome string
		var err error
		switch r.Kind {
		case bounce.Success:
			log.Debug("bounce report of a success ignored", "delivery", r.DeliveryID, "action", string(r.Action))
			outcome = reportIgnored
		case bounce.NotSpam:
			// Lifting a suppression is an operator's decision: the
			// recipient may have complained about another message.
			log.Info("not-spam feedback report: nothing changes (a complaint's suppression is lifted by DELETE /v1/suppressions only)",
				"delivery", r.DeliveryID, "reporter", r.ReportingMTA, "user_agent", r.UserAgent)
			outcome = reportIgnored
		case bounce.Complaint:
			outcome, err = recordComplaint(ctx, db, log, r)
		default:
			outcome, err = recordBounce(ctx, db, log, r)
		}
		m.count(r.Kind, outcome)
		return err
	}
}

// recordBounce applies a hard or soft bounce.
func recordBounce(ctx context.Context, db *store.DB, log *slog.Logger, r bounce.Report) (string, error) {
	detail := strings.TrimSpace(strings.Join([]string{r.Status, r.Diagnostic}, " "))
	if detail == "" {
		detail = string(r.Action)
	}
	out, err := db.RecordBounce(ctx, store.Bounce{DeliveryID: r.DeliveryID, Hard: r.Kind == bounce.Hard,
		Recipient: r.Recipient, Detail: detail, At: time.Now()})
	if errors.Is(err, notifyd.ErrNotFound) {
		log.Warn("bounce report for a delivery notifyd does not have (pruned, or not an email); dropped",
			"delivery", r.DeliveryID, "kind", string(r.Kind))
		return reportNoSuch, nil
	}
	if err != nil {
		log.Warn("could not record a bounce report; the sender or the next mailbox poll brings it again (check the database)",
			"delivery", r.DeliveryID, "err", err)
		return reportFailed, err
	}
	log.Info("bounce report recorded", "delivery", r.DeliveryID, "kind", string(r.Kind), "status", out.Delivery.Status,
		"bounced", out.Bounced, "suppressed", out.Suppressed != "", "duplicate", out.Duplicate, "format", r.Format,
		"reporting_mta", r.ReportingMTA)
	if out.Duplicate {
		return reportDuplicate, nil
	}
	return reportRecorded, nil
}

// recordComplaint applies a spam complaint.
func recordComplaint(ctx context.Context, db *store.DB, log *slog.Logger, r bounce.Report) (string, error) {
	out, err := db.RecordComplaint(ctx, store.Complaint{DeliveryID: r.DeliveryID, Detail: complaintDetail(r), At: time.Now()})
	if errors.Is(err, notifyd.ErrNotFound) {
		log.Warn("complaint about a delivery notifyd does not have (pruned, or not an email); dropped",
			"delivery", r.DeliveryID, "feedback_type", r.FeedbackType, "reporter", r.ReportingMTA)
		return reportNoSuch, nil
	}
	if err != nil {
		log.Warn("could not record a complaint; the sender or the next mailbox poll brings it again (check the database)",
			"delivery", r.DeliveryID, "err", err)
		return reportFailed, err
	}
	log.Info("complaint recorded", "delivery", r.DeliveryID, "feedback_type", r.FeedbackType, "reporter", r.ReportingMTA,
		"user_agent", r.UserAgent, "suppressed", out.Suppressed != "", "newly_suppressed", out.Added, "duplicate", out.Duplicate)
	if out.Duplicate {
		return reportDuplicate, nil
	}
	return reportRecorded, nil
}

// complaintDetail is what the suppression and the delivery's history
// say of a complaint: "feedback type abuse from arf.mail.yahoo.com
// (Yahoo!-Mail-Feedback/2.0)".
func complaintDetail(r bounce.Report) string {
	d := "feedback type " + r.FeedbackType
	if r.ReportingMTA != "" {
		d += " from " + r.ReportingMTA
	}
	if r.UserAgent != "" {
		d += " (" + r.UserAgent + ")"
	}
	return d
}
