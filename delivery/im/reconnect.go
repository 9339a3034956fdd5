package im

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// run connects, serves the session until it ends, and reconnects with
// backoff, until Close.
func (c *Channel) run() {
	defer c.wg.Done()
	b := backoff{min: c.backoffMin, max: c.backoffMax, cur: c.backoffMin}
	for c.ctx.Err() == nil {
		conn, err := c.dial(c.ctx)
		if err == nil {
			started := time.Now()
			err = c.serve(conn)
			if time.Since(started) >= stableAfter {
				b.reset()
			}
		} else {
			c.link.failed(err)
		}
		if c.ctx.Err() != nil {
			return
		}
		wait := b.next()
		c.log.Warn("im: no connection to the XMPP server; retrying", "server", c.serverName(), "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// serve runs one session until it ends, and returns why.
func (c *Channel) serve(conn xmppConn) error {
	s := newSession(c.sessions.Add(1), conn, c.domain, time.Now())
	c.book.begin(s.id, s.started)
	c.link.up(s)
	c.log.Info("im: connected to the XMPP server", "jid", c.bare, "server", c.serverName())
	s.start(c.handle)
	s.enqueue(c.ctx, rosterGet(s.rosterID()))
	err := s.run(c.ctx, c.keepalive, c.ackTimeout)
	c.link.down(s, err)
	c.book.end(s.id)
	return err
}

// backoff spaces reconnection attempts: cur doubles after each, up to
// max, and each wait is drawn between cur/2 and cur.
type backoff struct {
	min, max, cur time.Duration
}

// next returns the wait before the next attempt.
func (b *backoff) next() time.Duration {
	wait := b.cur/2 + rand.N(b.cur/2+1)
	b.cur = min(b.cur*2, b.max)
	return wait
}

// reset starts again from the shortest wait (after a stable session).
func (b *backoff) reset() { b.cur = b.min }

// link is the channel's connection state: the current session, or why
// there is none.
type link struct {
	changed *signal

	mu      sync.Mutex
	sess    *session // nil while not connected
	lastErr error    // why the last connection attempt or session failed
}

// up makes s the current session.
func (l *link) up(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sess, l.lastErr = s, nil
	l.changed.notify()
}

// down records that s ended for err.
func (l *link) down(s *session, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess == s {
		l.sess = nil
	}
	l.lastErr = err
	l.changed.notify()
}

// failed records a failed connection attempt.
func (l *link) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = err
	l.changed.notify()
}

// state returns the current session (nil: none) and the last failure.
func (l *link) state() (*session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess, l.lastErr
}

// current reports whether s is the current session.
func (l *link) current(s *session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess == s
}

// downErr says why there is no session; closed: the channel is closed.
func downErr(closed bool, lastErr error) error {
	switch {
	case closed:
		return fmt.Errorf("im: %w: the channel is closed", errConnectionDown)
	case lastErr != nil:
		return fmt.Errorf("im: %w: %v", errConnectionDown, lastErr)
	default:
		return fmt.Errorf("im: %w yet", errConnectionDown)
	}
}
