package engine_test

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// Lateness benchmark: everyone's 9:00 meeting. Each of 5,000 principals
// has one event whose alarm rings at the same second.
const (
	latePrincipals = 5000
	// lateLead is how far ahead of the trigger the setup starts: it must
	// subscribe every principal and record its calendar before the jobs
	// become available (10 s before the trigger).
	lateLead = 30 * time.Second
)

// handoffChannel records, for each reminder it is handed, how long after
// its trigger it was handed over; done is closed at the want-th.
type handoffChannel struct {
	mu   sync.Mutex
	late []time.Duration
	want int
	done chan struct{}
}

// Send records the reminder's lateness.
func (c *handoffChannel) Send(_ context.Context, req *delivery.Request) (delivery.Result, error) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.late = append(c.late, now.Sub(req.Notification.Reminder.Trigger))
	if len(c.late) == c.want {
		close(c.done)
	}
	return delivery.Result{ProviderID: req.DeliveryID}, nil
}

// BenchmarkReminderLateness measures how late 5,000 reminders due at the
// same second are handed to their channel, through the whole engine with
// its default settings (workers, job polling, reminders). Each principal
// is subscribed by email; its calendar, with the event, is recorded as
// its last sync did (with its fire_reminder job), and the engine's polls
// go on syncing about 83 principals a second (5,000 a minute, finding
// nothing changed) meanwhile. Each job rings its reminder at the
// trigger and hands it to a channel that records the time. It reports
// the lateness from the trigger to the hand-off at p50, p99 and max, the
// same to the reminder's firing (the write of its delivery), the heap in
// use while the reminders wait for their trigger, and the CPU time the
// process spent from then to the last hand-off. Each round takes about
// 40 s (lateLead), 100 s for same-minute. Run it alone:
//
//	go test -run '^$' -bench ReminderLateness -benchtime 1x -count 3 ./engine/
//
// The sub-benchmarks: same-second has the 5,000 due at the same second;
// same-minute spreads them over one minute (83 a second), as the issue's
// "5,000 reminders fall due in the same minute" may also be read. Besides
// the lateness, cpu-ms is the CPU time from 3 s before the (first)
// trigger to the last hand-off, all-cpu-ms and all-ms the CPU time and
// the time after the (last) trigger until every delivery is recorded and
// settled.
func BenchmarkReminderLateness(b *testing.B) {
	for _, spread := range []struct {
		name    string
		seconds int
	}{{"same-second", 1}, {"same-minute", 60}} {
		b.Run(spread.name, func(b *testing.B) {
			for range b.N {
				latenessRound(b, spread.seconds)
			}
		})
	}
}

// latenessRound is one round, the reminders' triggers spread over that
// many seconds.
func latenessRound(b *testing.B, seconds int) {
	b.StopTimer()
	ctx := context.Background()
	first := time.Now().Add(lateLead).Truncate(time.Second)
	triggerOf := func(i int) time.Time { return first.Add(time.Duration(i%seconds) * time.Second) }
	last := triggerOf(seconds - 1)
	ch := &handoffChannel{want: latePrincipals, done: make(chan struct{})}
	event := func(i int) (string, []byte) {
		href := benchCalendar(i) + "meeting.ics"
		return href, benchEvent(href, triggerOf(i).Add(15*time.Minute), "")
	}
	dav := &benchCalendars{events: func(i int) map[string][]byte {
		href, data := event(i)
		return map[string][]byte{href: data}
	}}
	r := newRigOn(b, testdb.Open(b), engine.PolicyDelete, func(o *engine.Options) {
		dav.fakeDAV = o.Systems[0].CalDAV.(*fakeDAV)
		o.Systems[0].CalDAV = dav
		o.Channels = map[notifyd.Channel]delivery.Channel{notifyd.ChannelEmail: ch}
		o.PollInterval, o.RetryBase, o.RetryMax, o.MaxAttempts = 0, 0, 0, 0 // the defaults
		o.Reminders = engine.ReminderOptions{Enabled: true}
	})
	subscribeAll(b, r.subs, latePrincipals)
	// Each principal's calendar as its last sync recorded it, the syncs
	// spread over the last poll interval: the engine's polls then sync
	// about 83 principals a second (finding nothing changed), as they
	// would all day.
	now := time.Now()
	changes := make([]store.CalendarChange, latePrincipals)
	for i := range changes {
		key := store.PrincipalKey{System: "cal", Principal: benchPrincipal(i)}
		href, data := event(i)
		oa, err := r.eng.ObjectAlarmsForTest(key, benchCalendar(i),
			store.CalendarObject{Href: href, ETag: `"1"`, Data: data, FirstSeenAt: now}, parisZone, now)
		if err != nil || len(oa.Reminders) != 1 {
			b.Fatalf("alarms %+v, %v; want one", oa.Reminders, err)
		}
		changes[i] = store.CalendarChange{System: "cal", Principal: key.Principal, CalendarHref: benchCalendar(i), Now: now,
			Changed: []store.ObjectAlarms{oa}, Calendar: &store.CalendarRecord{System: "cal", Principal: key.Principal,
				Href: benchCalendar(i), DisplayName: "Work", SyncToken: "1", ListedTag: "sync-token:1"}}
	}
	if _, err := r.eng.Queue().Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	recordAll(b, r.eng, changes)
	err := r.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		for i := range latePrincipals {
			synced := now.Add(-time.Duration(i) * time.Minute / latePrincipals)
			if _, err := tx.Exec(`INSERT INTO calendar_homes (system, principal, synced_at, addresses) VALUES ('cal', $1, $2, '[]')`,
				benchPrincipal(i), synced.UnixMicro()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	r.start(b)
	if left := time.Until(first); left < 12*time.Second {
		b.Fatalf("the setup ended %s before the trigger: raise lateLead", left)
	}
	// The jobs are available from 10 s before the trigger, taken at
	// once by idle workers: at 3 s before, those that wait are waiting.
	// A benchmark, not a test: it waits for an instant of its scenario
	// and asserts nothing about time (lateness is reported), so the
	// sleep cannot flake.
	time.Sleep(time.Until(first.Add(-3 * time.Second)))
	heap := heapInUse()
	cpu0 := cpuTime()
	b.StartTimer()
	select {
	case <-ch.done:
	case <-time.After(time.Until(last) + 2*time.Minute):
		b.Fatalf("%d of %d reminders handed over 2 minutes after their trigger", len(ch.late), latePrincipals)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	// Then until every delivery is recorded and its notification
	// settled: nothing signals that, so the backlog is polled. A
	// benchmark that reports how long it took and asserts nothing about
	// time: the sleep cannot flake.
	for {
		n, err := r.db.Backlog(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n[store.BacklogDeliveries] == 0 && n[store.BacklogPolicies] == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	allCPU, all := cpuTime()-cpu0, time.Since(last)
	rs, err := r.db.Reminders(ctx, store.ReminderFilter{State: store.ReminderFired, Limit: latePrincipals})
	if err != nil {
		b.Fatal(err)
	}
	fired := make([]time.Duration, len(rs))
	for i, rec := range rs {
		fired[i] = rec.FiredAt.Sub(rec.TriggerAt)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	reportLateness(b, "", ch.late)
	reportLateness(b, "fire-", fired)
	b.ReportMetric(float64(heap)/1e6, "waiting-heap-MB")
	b.ReportMetric(float64(cpu)/float64(time.Millisecond), "cpu-ms")
	b.ReportMetric(float64(allCPU)/float64(time.Millisecond), "all-cpu-ms")
	b.ReportMetric(float64(all)/float64(time.Millisecond), "all-ms")
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// reportLateness reports the p50, p99 and max of late, in milliseconds.
func reportLateness(b *testing.B, prefix string, late []time.Duration) {
	slices.Sort(late)
	at := func(q float64) float64 {
		i := min(len(late)-1, int(q*float64(len(late))))
		return float64(late[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
	b.ReportMetric(at(1), prefix+"max-ms")
}

// subscribeAll subscribes principals 0 to n-1 by email, 8 at once.
func subscribeAll(b *testing.B, subs *subscriptions.Service, n int) {
	var wg sync.WaitGroup
	next := make(chan int)
	var mu sync.Mutex
	var failed error
	for range 8 {
		wg.Go(func() {
			for i := range next {
				in := subscriptions.Input{System: "cal", Principal: benchPrincipal(i), Methods: []subscriptions.MethodInput{
					{Channel: notifyd.ChannelEmail, Address: "user@example.org"}}}
				if _, err := subs.Create(context.Background(), in); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}
