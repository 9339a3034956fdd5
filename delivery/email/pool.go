package email

import (
	"context"
	"net"
	"time"

	gosmtp "github.com/wneessen/go-mail/smtp"
)

// Connection reuse across Send calls: a connection that served a Send
// well is kept for the next one, so that a stream of deliveries does not
// pay for a TCP connection, a TLS handshake and AUTH each.
const (
	// poolSize caps the idle connections kept.
	poolSize = 16
	// idleMax is how long an idle connection is kept; servers close idle
	// sessions after a few minutes (RFC 5321 suggests at least 5).
	idleMax = 30 * time.Second
	// checkAfter is how long a connection may sit idle before it is
	// checked with NOOP when taken.
	checkAfter = 5 * time.Second
)

// pooledConn is an SMTP session with the raw connection under it (for
// interrupting it when a Send's context ends).
type pooledConn struct {
	c    *gosmtp.Client
	raw  net.Conn
	used time.Time
}

func (p *pooledConn) close() { _ = p.raw.Close() }

// acquire returns an idle connection if one is usable, else a new one;
// reused says which.
func (s *Sender) acquire(ctx context.Context) (pc *pooledConn, reused bool, err error) {
	for {
		select {
		case pc := <-s.idle:
			idle := time.Since(pc.used)
			if idle > idleMax {
				pc.close()
				continue
			}
			if idle > checkAfter {
				_ = pc.c.UpdateDeadline(s.timeout)
				if err := pc.c.Noop(); err != nil {
					pc.close()
					continue
				}
			}
			return pc, true, nil
		default:
			pc, err := s.open(ctx)
			return pc, false, err
		}
	}
}

// open connects a new session, interruptible by ctx while it connects.
func (s *Sender) open(ctx context.Context) (*pooledConn, error) {
	slot := &connSlot{ctx: ctx}
	c, err := s.connect(context.WithValue(ctx, connKey{}, slot))
	if err != nil {
		slot.close()
		return nil, err
	}
	return &pooledConn{c: c, raw: slot.detach()}, nil
}

// release keeps a healthy connection for the next Send, or ends it when
// enough are kept or the Sender is closed.
func (s *Sender) release(pc *pooledConn) {
	pc.used = time.Now()
	_ = pc.raw.SetDeadline(time.Time{})
	if !s.closed.Load() {
		select {
		case s.idle <- pc:
			return
		default:
		}
	}
	_ = pc.c.UpdateDeadline(s.timeout)
	_ = pc.c.Quit()
	pc.close()
}

// Close ends the idle sessions (QUIT). Send may still be called; its
// connections are then not kept.
func (s *Sender) Close() error {
	s.closed.Store(true)
	for {
		select {
		case pc := <-s.idle:
			_ = pc.c.UpdateDeadline(s.timeout)
			_ = pc.c.Quit()
			pc.close()
		default:
			return nil
		}
	}
}
