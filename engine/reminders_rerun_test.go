package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
)

// A fired reminder's delivery has no job of its own: the worker that
// fired it sends it. If notifyd is killed between the write that fired
// it and the attempt, the reminder's job, run again (the rescue at start
// copies it), sends it, once; another run after that sends nothing.
func TestReminderJobRunAgainSendsWhatWasNotSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRigOn(t, testdb.Open(t), engine.PolicyDelete, func(o *engine.Options) {
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	r.subscribe(t, principal, "wilma@example.org")
	r.start(t)
	now := time.Now()
	trigger := now.Add(time.Hour).Truncate(time.Second) // its own job waits
	href := testCalendar + "a.ics"
	oa, err := r.eng.ObjectAlarmsForTest(store.PrincipalKey{System: "cal", Principal: principal}, testCalendar,
		store.CalendarObject{Href: href, ETag: `"1"`, Data: benchEvent(href, trigger.Add(15*time.Minute), ""), FirstSeenAt: now},
		parisZone, now)
	if err != nil || len(oa.Reminders) != 1 {
		t.Fatalf("alarms %+v, %v; want one", oa.Reminders, err)
	}
	key := oa.Reminders[0].FireKey
	err = r.eng.RecordCalendarForTest(ctx, store.CalendarChange{System: "cal", Principal: principal, CalendarHref: testCalendar,
		Now: now, Changed: []store.ObjectAlarms{oa}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eng.FireWithoutSendingForTest(ctx, key); err != nil {
		t.Fatal(err)
	}
	ends := r.jobEnds(t)
	for run := 1; run <= 2; run++ {
		if err := r.eng.RunFireJobForTest(ctx, key, trigger); err != nil {
			t.Fatal(err)
		}
		nextEnd(t, ends, engine.FireReminderArgs{}.Kind(), river.EventKindJobCompleted)
		if got := r.email.sentTo(); len(got) != 1 {
			t.Fatalf("after run %d of the reminder's job: sent %v, want the reminder once", run, got)
		}
	}
	if log := r.deliveryLog(t); len(log) != 1 || log[0].Status != store.DeliverySent {
		t.Errorf("delivery log %+v, want the reminder sent", log)
	}
}
