package engine_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/engine"
	"github.com/notifyd/notifyd/internal/testdb"
	"github.com/notifyd/notifyd/store"
	"github.com/notifyd/notifyd/subscriptions"
)

// pingCalendar pings href as the API does: it looks its owners up, and
// queues their calendar syncs.
func pingCalendar(t *testing.T, in *engine.Intake, href string) engine.IntakeResult {
	t.Helper()
	ctx := context.Background()
	paths, err := in.CalendarPaths(ctx, "cal", false)
	if err != nil {
		t.Fatal(err)
	}
	owners := paths.Owners(href)
	if owners == nil {
		t.Fatalf("%s: no owner", href)
	}
	res, err := in.EnqueuePing(ctx, "cal", nil, owners)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A ping naming a calendar (or an event in it) queues its owner's
// calendar sync, once: it joins the sync a poll queued, and a second ping
// joins it too. Nothing is queued for the calendar's path as a principal.
func TestCalendarPingQueuesOwnersCalendarSyncOnce(t *testing.T) {
	t.Parallel()
	// Workers not started: jobs wait. Reminders on: the poll serves them.
	r := newRigOn(t, testdb.Open(t), "mark", func(o *engine.Options) { o.Reminders.Enabled = true })
	if _, err := r.eng.Queue().Migrate(r.ctx); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// fred wants reminders (all types), wilma does not subscribe.
	if _, err := r.subs.Create(ctx, subscriptions.Input{System: "cal", Principal: "/p/fred",
		Methods: []subscriptions.MethodInput{{Channel: "email", Address: "fred@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	testdb.RecordCalendar(t, r.db, "cal", "/p/fred", "/cal/fred/home/")
	testdb.RecordCalendar(t, r.db, "cal", "/p/wilma", "/cal/wilma/work/")

	// The poll queues fred's calendar sync; the ping joins it.
	if err := r.eng.PollCalendarsForTest(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testdb.CalendarSyncJobs(t, r.db, "cal", "/p/fred"); n != 1 {
		t.Fatalf("after the poll, fred has %d calendar sync jobs, want 1", n)
	}
	for _, href := range []string{"/cal/fred/home/", "/cal/fred/home/lunch.ics"} {
		if res := pingCalendar(t, r.intake, href); res != (engine.IntakeResult{Queued: 1, Coalesced: 1}) {
			t.Fatalf("ping %s: %+v, want 1 queued, coalesced with the poll's", href, res)
		}
	}
	if n := testdb.CalendarSyncJobs(t, r.db, "cal", "/p/fred"); n != 1 {
		t.Fatalf("fred has %d calendar sync jobs, want 1", n)
	}

	// wilma had none waiting: the first ping queues one, the next joins.
	if res := pingCalendar(t, r.intake, "/cal/wilma/work"); res != (engine.IntakeResult{Queued: 1, NewJobs: 1}) {
		t.Fatalf("first ping of wilma's calendar: %+v, want a new job", res)
	}
	if res := pingCalendar(t, r.intake, "/cal/wilma/work/x.ics"); res != (engine.IntakeResult{Queued: 1, Coalesced: 1}) {
		t.Fatalf("second ping of wilma's calendar: %+v, want it coalesced", res)
	}
	if n := testdb.CalendarSyncJobs(t, r.db, "cal", "/p/wilma"); n != 1 {
		t.Fatalf("wilma has %d calendar sync jobs, want 1", n)
	}
	for _, p := range []string{"/p/fred", "/p/wilma", "/cal/wilma/work", "/cal/fred/home/"} {
		if n := testdb.SyncJobs(t, r.db, "cal", p); n != 0 {
			t.Errorf("%s: %d notification sync jobs, want none", p, n)
		}
	}
}

// A ping naming principals and calendars queues both, in one write, and
// counts each sync once: a principal's notifications and its calendars
// are two syncs.
func TestMixedPingCountsEachSync(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	testdb.RecordCalendar(t, db, "cal", "/p/fred", "/cal/fred/home/")
	ctx := context.Background()
	res, err := in.EnqueuePing(ctx, "cal", []string{"/p/fred", "/p/jim"}, []string{"/p/fred"})
	if err != nil || res != (engine.IntakeResult{Queued: 3, NewJobs: 3}) {
		t.Fatalf("%+v, %v; want 3 new jobs", res, err)
	}
	res, err = in.EnqueuePing(ctx, "cal", []string{"/p/jim"}, []string{"/p/fred", "/p/wilma"})
	if err != nil || res != (engine.IntakeResult{Queued: 3, NewJobs: 1, Coalesced: 2}) {
		t.Fatalf("%+v, %v; want wilma's new, jim's and fred's coalesced", res, err)
	}
	for p, want := range map[string][2]int{"/p/fred": {1, 1}, "/p/jim": {1, 0}, "/p/wilma": {0, 1}} {
		if got := [2]int{testdb.SyncJobs(t, db, "cal", p), testdb.CalendarSyncJobs(t, db, "cal", p)}; got != want {
			t.Errorf("%s: %d notification and %d calendar sync jobs, want %v", p, got[0], got[1], want)
		}
	}
}

// Pings that arrive together, naming one calendar, queue one job and
// credit it to one ping.
func TestConcurrentCalendarPingsShareOneJob(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	testdb.RecordCalendar(t, db, "cal", "/p/fred", "/cal/fred/home/")
	const n = 20
	var wg sync.WaitGroup
	results := make([]engine.IntakeResult, n)
	for i := range n {
		wg.Go(func() { results[i] = pingCalendar(t, in, "/cal/fred/home/e.ics") })
	}
	wg.Wait()
	var sum engine.IntakeResult
	for _, r := range results {
		sum.Queued += r.Queued
		sum.NewJobs += r.NewJobs
		sum.Coalesced += r.Coalesced
	}
	if sum != (engine.IntakeResult{Queued: n, NewJobs: 1, Coalesced: n - 1}) {
		t.Fatalf("%+v, want one new job", sum)
	}
	if c := testdb.CalendarSyncJobs(t, db, "cal", "/p/fred"); c != 1 {
		t.Fatalf("%d calendar sync jobs, want 1", c)
	}
}

// A calendar this process's sync records is known to pings at once, not
// only when the paths are next read; a ping naming it then syncs the
// owner's calendars: the event added reaches the reminders.
func TestCalendarPingSyncsOwnersCalendars(t *testing.T) {
	t.Parallel()
	var cal *calendarDAV
	r := newRig(t, engine.PolicyDelete, func(o *engine.Options) {
		cal = &calendarDAV{fakeDAV: o.Systems[0].CalDAV.(*fakeDAV)}
		o.Systems[0].CalDAV = cal
		o.Reminders = engine.ReminderOptions{Enabled: true, PollInterval: time.Hour}
	})
	// The intake's clock stands still: its paths are never read again
	// once read.
	frozen := time.Now()
	r.intake.SetNowForTest(func() time.Time { return frozen })
	ctx := context.Background()
	if p, err := r.intake.CalendarPaths(ctx, "cal", false); err != nil || p.Owners(testCalendar) != nil {
		t.Fatalf("before any sync: %v, %v", p.Owners(testCalendar), err)
	}
	r.subscribe(t, principal, "wilma@example.org")
	r.syncCalendars(t) // a ping of wilma: her calendar is recorded
	paths, err := r.intake.CalendarPaths(ctx, "cal", false)
	if err != nil {
		t.Fatal(err)
	}
	owners := paths.Owners(testCalendar + "budget.ics")
	if !slices.Equal(owners, []string{principal}) {
		t.Fatalf("owners of an event in the calendar just synced: %q, want wilma", owners)
	}

	cal.put(testCalendar+"budget.ics", "Budget review", time.Now().Add(2*time.Hour))
	if res, err := r.intake.EnqueuePing(ctx, "cal", nil, owners); err != nil || res.Queued != 1 {
		t.Fatalf("calendar ping: %+v, %v", res, err)
	}
	r.waitUntil(t, "the event's reminder scheduled after the calendar ping", func() bool {
		return r.reminderStates(t)[store.ReminderScheduled] == 1
	})
}

// The calendar paths are read from the store once, then again in the
// background once a second old, and before a ping uses them once two
// seconds old (after a while without pings); an href that would be
// refused has them read again first when they are 100 ms old.
func TestCalendarPathsAreReadAgain(t *testing.T) {
	t.Parallel()
	db, in := newIntake(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in.SetNowForTest(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()
	owners := func(fresh bool, href string) []string {
		t.Helper()
		p, err := in.CalendarPaths(ctx, "cal", fresh)
		if err != nil {
			t.Fatal(err)
		}
		return p.Owners(href)
	}

	testdb.RecordCalendar(t, db, "cal", "/p/fred", "/cal/fred/home/")
	if o := owners(false, "/cal/fred/home/"); !slices.Equal(o, []string{"/p/fred"}) {
		t.Fatalf("first reading: owners %q", o)
	}
	// Another system's calendars are not this one's.
	if p, err := in.CalendarPaths(ctx, "other", false); err != nil || p.Owners("/cal/fred/home/") != nil {
		t.Fatalf("other system: %v", err)
	}

	testdb.RecordCalendar(t, db, "cal", "/p/jim", "/cal/jim/home/")
	advance(50 * time.Millisecond)
	if o := owners(true, "/cal/jim/home/"); o != nil {
		t.Fatalf("read again after 50 ms: %q", o)
	}
	advance(100 * time.Millisecond)
	if o := owners(false, "/cal/jim/home/"); o != nil {
		t.Fatalf("read again in the background after 150 ms: %q", o)
	}
	if o := owners(true, "/cal/jim/home/"); !slices.Equal(o, []string{"/p/jim"}) {
		t.Fatalf("fresh after 150 ms: owners %q, want jim", o)
	}

	// Two seconds without pings: the next one waits for a reading.
	testdb.RecordCalendar(t, db, "cal", "/p/barney", "/cal/barney/home/")
	advance(2 * time.Second)
	if o := owners(false, "/cal/barney/home/"); !slices.Equal(o, []string{"/p/barney"}) {
		t.Fatalf("after 2 s: owners %q, want barney", o)
	}

	// A second: the ping uses what it has, and has them read again.
	testdb.RecordCalendar(t, db, "cal", "/p/wilma", "/cal/wilma/home/")
	advance(time.Second)
	if o := owners(false, "/cal/wilma/home/"); o != nil {
		t.Fatalf("after 1 s: owners %q, want none before the reading in the background", o)
	}
	deadline := time.Now().Add(10 * time.Second)
	for owners(false, "/cal/wilma/home/") == nil {
		if time.Now().After(deadline) {
			t.Fatal("wilma's calendar is not known 10 s after the paths were a second old")
		}
		// Polls for the background reading to land: the deadline only
		// bounds a broken run (10 s for a read of one row), nothing is
		// asserted about how long it took, so the sleep cannot flake.
		time.Sleep(time.Millisecond)
	}
}

// With reminders off, no calendar path is known.
func TestCalendarPingsOff(t *testing.T) {
	t.Parallel()
	db, _ := newIntake(t)
	testdb.RecordCalendar(t, db, "cal", "/p/fred", "/cal/fred/home/")
	q, err := engine.NewQueue(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	in := engine.NewIntake(db, q, engine.CalendarPings(false))
	t.Cleanup(in.Close)
	if p, err := in.CalendarPaths(context.Background(), "cal", false); p.Owners("/cal/fred/home/") != nil || err != nil {
		t.Fatalf("%v, %v; want none", p, err)
	}
}
