package im

import (
	"sync"
	"time"
)

// book shares the roster between the session's reader, Send and the
// watch rounds: it serialises the calls, applies a session's stanzas
// only while that session is the current one (a reader that outlives its
// session changes nothing), and wakes the Sends waiting for presence when
// something they wait for changed.
type book struct {
	changed *signal

	mu   sync.Mutex
	sess uint64 // the current session's id; 0: none
	r    *roster
}

func newBook(r *roster, changed *signal) *book {
	return &book{r: r, changed: changed}
}

// begin makes id the current session.
func (b *book) begin(id uint64, started time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sess = id
	b.r.begin(started)
	b.changed.notify()
}

// end ends session id.
func (b *book) end(id uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess == id {
		b.sess = 0
	}
	b.r.end()
	b.changed.notify()
}

// presence applies a presence stanza of session id.
func (b *book) presence(id uint64, from, typ string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != id {
		return nil
	}
	out, ok := b.r.presence(from, typ, time.Now())
	if ok {
		b.changed.notify()
	}
	return out
}

// loggedIn applies the roster session id asked for at login; false: it
// is not the current session, or its roster has arrived already (a
// second result with the roster's ID is not the server's).
func (b *book) loggedIn(id uint64, items []rosterItem, usable bool) ([]string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != id || b.r.loaded {
		return nil, false
	}
	out := b.r.loggedIn(items, usable, time.Now())
	b.changed.notify()
	return out, true
}

// pushed applies a roster push of session id.
func (b *book) pushed(id uint64, items []rosterItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != id {
		return
	}
	b.r.pushed(items, time.Now())
	b.changed.notify()
}

// watch replaces the addresses to watch and, when session id (0: none)
// is the current one, asks those it should (roster.reconcile).
func (b *book) watch(id uint64, watched map[string]string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.r.watch(watched)
	if id == 0 || b.sess != id {
		return nil
	}
	return b.r.reconcile(time.Now())
}

// reach returns what roster.reach says of key for session id; ok is
// false when id is not the current session.
func (b *book) reach(id uint64, key, addr string, approvalWait time.Duration, now time.Time) (r reachability, detail string, until time.Time, out []string, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != id {
		return 0, "", time.Time{}, nil, false
	}
	r, detail, until, out = b.r.reach(key, addr, approvalWait, now)
	return r, detail, until, out, true
}

// loaded reports whether session id's roster has arrived.
func (b *book) loaded(id uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess == id && b.r.loaded
}

// signal wakes every goroutine waiting for a change of state.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// notify wakes the waiters.
func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
