package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// CalendarPaths are the calendars notifyd syncs for reminders on one
// system, by path: what a ping naming a calendar (or a resource in one)
// is looked up in. A nil *CalendarPaths has none. It is immutable.
type CalendarPaths struct {
	// owners maps a calendar's path, cleaned (notifyd.CleanHref) and
	// without its trailing slash, to the principals it is synced for, as
	// read from the store at loadedAt.
	owners map[string][]string
	// added are the calendars this process recorded since (or while)
	// owners was read, with all their principals; they take precedence.
	added    map[string]addedCalendar
	loadedAt time.Time     // when the reading of owners began
	took     time.Duration // how long it took
}

// addedCalendar is a calendar recorded by this process, with when.
type addedCalendar struct {
	owners []string
	at     time.Time
}

// Owners returns the principals whose calendar href is, or holds (href
// is a resource directly in it): nil when it is neither. href must be
// cleaned with notifyd.CleanHref. It allocates nothing: it is on the
// ping path.
func (p *CalendarPaths) Owners(href string) []string {
	if p == nil || len(p.owners)+len(p.added) == 0 {
		return nil
	}
	k := strings.TrimSuffix(href, "/")
	if o := p.of(k); o != nil {
		return o
	}
	// A calendar collection holds resources, never collections
	// (RFC 4791 §4.2): only the parent can be the calendar.
	if i := strings.LastIndexByte(k, '/'); i > 0 {
		return p.of(k[:i])
	}
	return nil
}

// of returns the principals of the calendar at key k.
func (p *CalendarPaths) of(k string) []string {
	if a, ok := p.added[k]; ok {
		return a.owners
	}
	return p.owners[k]
}

// How often a system's calendar paths are read again from the store, at
// least: each bound is also at least a multiple of how long the last
// reading took, so that reading costs a few percent of the time at most
// however many calendars there are.
const (
	// refreshEvery: a ping uses the paths it has, and has them read again
	// in the background once they are older than this.
	refreshEvery    = time.Second
	refreshEveryMul = 50
	// staleAfter (times refreshEvery): a ping waits for them to be read
	// again when they are older than this (after a while without pings).
	staleAfter = 2
	// freshEvery: an href that would be refused (no principal, no known
	// calendar) has them read again first, and waits, when they are
	// older than this.
	freshEvery    = 100 * time.Millisecond
	freshEveryMul = 10
	// maxAdded: past this many calendars recorded since the last
	// reading, they are read again in the background.
	maxAdded = 64
	// loadTimeout bounds one reading.
	loadTimeout = 10 * time.Second
)

// calendarIndex keeps each system's CalendarPaths in memory, so that
// looking up a ping's hrefs costs no query. A calendar this process
// records is added at once (Queue.calendarRecorded), so that a ping that
// arrives once its sync recorded it finds it. The paths are also read
// again from the store, for calendars other replicas recorded: in the
// background once refreshEvery old while pings come, before a ping that
// finds them staleAfter times as old, and before an href would be refused
// once freshEvery old.
type calendarIndex struct {
	db      *store.DB
	now     func() time.Time
	systems sync.Map // system name -> *calendarSystem

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // readings under way
}

// calendarSystem is one system's paths, the calendars added since they
// were read, and the reading under way.
type calendarSystem struct {
	paths atomic.Pointer[CalendarPaths]

	mu        sync.Mutex
	added     map[string]addedCalendar // copied on write; shared with paths
	loading   chan struct{}            // closed when the reading under way ends; nil when none is
	err       error                    // the last reading's error
	attempted time.Time                // when the last reading began
}

func newCalendarIndex(db *store.DB, now func() time.Time) *calendarIndex {
	return &calendarIndex{db: db, now: now}
}

// system returns the state of system's paths.
func (x *calendarIndex) system(system string) *calendarSystem {
	v, ok := x.systems.Load(system)
	if !ok {
		v, _ = x.systems.LoadOrStore(system, &calendarSystem{})
	}
	return v.(*calendarSystem)
}

// paths returns system's calendar paths (see calendarIndex for when they
// are read again). With fresh, paths older than freshEvery are read again
// before they are returned.
func (x *calendarIndex) paths(ctx context.Context, system string, fresh bool) (*CalendarPaths, error) {
	cs := x.system(system)
	p := cs.paths.Load()
	if p == nil {
		return x.load(ctx, cs, system)
	}
	age := x.now().Sub(p.loadedAt)
	refresh := max(refreshEvery, refreshEveryMul*p.took)
	switch {
	case fresh && age >= max(freshEvery, freshEveryMul*p.took), age >= staleAfter*refresh:
		return x.load(ctx, cs, system)
	case age >= refresh:
		cs.mu.Lock()
		if cs.loading == nil && x.now().Sub(cs.attempted) >= refreshEvery {
			x.startLocked(cs, system)
		}
		cs.mu.Unlock()
	}
	return p, nil
}

// load reads system's paths and waits for them; a reading under way is
// joined.
func (x *calendarIndex) load(ctx context.Context, cs *calendarSystem, system string) (*CalendarPaths, error) {
	cs.mu.Lock()
	done := cs.loading
	if done == nil {
		done = x.startLocked(cs, system)
	}
	cs.mu.Unlock()
	if done == nil {
		return nil, ErrIntakeClosed
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cs.mu.Lock()
	err := cs.err
	cs.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return cs.paths.Load(), nil
}

// startLocked starts a reading of system's paths; cs.mu is held. It
// returns the channel closed when the reading ends, nil once the index
// is closed.
func (x *calendarIndex) startLocked(cs *calendarSystem, system string) chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	done := make(chan struct{})
	start := x.now()
	cs.loading, cs.attempted = done, start
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		owners, err := x.read(system)
		took := x.now().Sub(start)
		cs.mu.Lock()
		if err == nil {
			// Calendars recorded before the reading began are in it.
			kept := maps.Clone(cs.added)
			maps.DeleteFunc(kept, func(_ string, a addedCalendar) bool { return a.at.Before(start) })
			cs.added = kept
			cs.paths.Store(&CalendarPaths{owners: owners, added: kept, loadedAt: start, took: took})
		}
		cs.loading, cs.err = nil, err
		cs.mu.Unlock()
		close(done)
	}()
	return done
}

// read reads system's calendar paths from the store. A path that
// notifyd.CleanHref refuses cannot be pinged and is left out.
func (x *calendarIndex) read(system string) (map[string][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	cals, err := x.db.CalendarOwners(ctx, system)
	if err != nil {
		return nil, fmt.Errorf("%w: read the calendar paths of %s: %v", notifyd.ErrUnavailable, system, err)
	}
	owners := make(map[string][]string, len(cals))
	for _, c := range cals {
		if k, ok := calendarKey(c.Href); ok && !slices.Contains(owners[k], c.Principal) {
			owners[k] = append(owners[k], c.Principal)
		}
	}
	return owners, nil
}

// calendarKey is the key of the calendar at href: cleaned, without its
// trailing slash; false when notifyd.CleanHref refuses href.
func calendarKey(href string) (string, bool) {
	clean, err := notifyd.CleanHref(href)
	return strings.TrimSuffix(clean, "/"), err == nil
}

// add makes system's paths know that notifyd syncs the calendar at href
// for principal, which this process just recorded (committed), so that a
// ping arriving from now on finds it without waiting for a reading.
func (x *calendarIndex) add(system, principal, href string) {
	k, ok := calendarKey(href)
	if !ok {
		return
	}
	cs := x.system(system)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	p := cs.paths.Load()
	var owners []string
	if a, ok := cs.added[k]; ok {
		owners = a.owners
	} else if p != nil {
		owners = p.owners[k]
	}
	if slices.Contains(owners, principal) {
		return // the common case: a calendar synced again
	}
	added := maps.Clone(cs.added)
	if added == nil {
		added = make(map[string]addedCalendar, 1)
	}
	added[k] = addedCalendar{owners: append(slices.Clip(owners), principal), at: x.now()}
	cs.added = added
	// Not read yet: the first reading, or the one under way, publishes
	// it with what it reads.
	if p != nil {
		cs.paths.Store(&CalendarPaths{owners: p.owners, added: added, loadedAt: p.loadedAt, took: p.took})
	}
	if len(added) > maxAdded && cs.loading == nil {
		x.startLocked(cs, system)
	}
}

// close stops new readings and waits for those under way.
func (x *calendarIndex) close() {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.wg.Wait()
}

// calendarRecorded tells the intake's calendar paths, if any, that
// notifyd now syncs the calendar at href for principal (its sync just
// recorded it).
func (q *Queue) calendarRecorded(system, principal, href string) {
	if x := q.calendars.Load(); x != nil {
		x.add(system, principal, href)
	}
}
