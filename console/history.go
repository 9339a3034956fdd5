package console

import (
	"strconv"
	"time"

	"github.com/notifyd/notifyd/store"
)

// history is a delivery's timeline from its stored history: made
// (queued), then each attempt with its outcome and the provider's reply,
// each hold and release, an operator's retry or discard, the provider's
// later reports, bounce reports and spam complaints, and, while it
// waits, that it waits. Attempts made before the history was kept are
// summed up in one line.
func history(v *view, d *store.DeliveryRecord, events []store.DeliveryEvent) []event {
	out := []event{{When: when(d.CreatedAt), ISO: iso(d.CreatedAt), What: v.T("tl.queued")}}
	add := func(t time.Time, what, detail, tone string) {
		out = append(out, event{When: when(t), ISO: iso(t), What: what, Detail: detail, Tone: tone})
	}
	for i, e := range events {
		if i == 0 && e.Kind == store.EventAttempt && e.Attempt > 1 {
			add(e.StartedAt, v.T("tl.earlier")+" "+strconv.Itoa(e.Attempt-1), "", "")
		}
		switch e.Kind {
		case store.EventAttempt:
			what := v.T("tl.attempt") + " " + strconv.Itoa(e.Attempt) + ": " + v.T("status."+e.Status)
			detail := e.Detail
			if e.ProviderID != "" {
				detail = join(detail, v.T("tl.provider")+" "+e.ProviderID)
			}
			if took := e.At.Sub(e.StartedAt); took > 0 {
				detail = join(detail, v.T("tl.took")+" "+took.Round(time.Millisecond).String())
			}
			add(e.At, what, detail, attemptTone(e.Status))
		case store.EventHeld:
			what := v.T("status.held") + " (" + v.T("held."+e.Detail) + ")"
			add(e.At, what, v.T("tl.until")+" "+when(e.ReleaseAt), "")
		case store.EventReleased:
			add(e.At, v.T("tl.released"), "", "")
		case store.EventRequeued:
			add(e.At, v.T("tl.requeued"), "", "")
		case store.EventDiscarded:
			add(e.At, v.T("tl.discarded"), "", "bad")
		case store.EventProvider:
			tone := map[bool]string{true: "good", false: "bad"}[e.Status == store.DeliveryDelivered || e.Status == store.DeliverySent]
			add(e.At, v.T("tl.report")+" "+v.T("status."+e.Status), e.Detail, tone)
		case store.EventBounce:
			tone := map[bool]string{true: "bad", false: ""}[e.Status == store.DeliveryBounced]
			add(e.At, v.T("tl.bounce"), e.Detail, tone)
		case store.EventComplaint:
			add(e.At, v.T("tl.complaint"), e.Detail, "bad")
		}
	}
	switch d.Status {
	case store.DeliveryQueued, store.DeliveryRetrying:
		add(d.UpdatedAt, v.T("tl.waiting"), "", "")
	}
	return out
}

// attemptTone is the tone of an attempt that left status.
func attemptTone(status string) string {
	switch status {
	case store.DeliverySent:
		return "good"
	case store.DeliveryFailed, store.DeliveryRetrying:
		return "bad"
	}
	return ""
}

// join is a and b on one line, separated when both are there.
func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " · " + b
}
