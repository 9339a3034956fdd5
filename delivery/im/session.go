package im

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/delivery"
)

// session is one logged-in connection. Its reader goroutine hands each
// stanza to the channel, its writer goroutine writes the queued stanzas
// in order, and run (on the connection loop's goroutine) keeps it alive
// and ends it: when the connection fails, when the server stays silent,
// or when the channel closes.
type session struct {
	id      uint64
	conn    xmppConn
	domain  string // where pings go
	started time.Time

	out        chan string
	dead       chan struct{} // closed by kill
	err        error         // why it ended; set before dead is closed
	killOnce   sync.Once
	readerDone chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	lastRecv   atomic.Int64 // when the last stanza came, UnixNano

	acks acks // messages awaiting the server's confirmation
}

func newSession(id uint64, conn xmppConn, domain string, now time.Time) *session {
	s := &session{
		id: id, conn: conn, domain: domain, started: now,
		out: make(chan string, 256), dead: make(chan struct{}),
		readerDone: make(chan struct{}), writerDone: make(chan struct{}),
	}
	s.lastRecv.Store(now.UnixNano())
	return s
}

// rosterID is the ID of the roster request of the session.
func (s *session) rosterID() string { return "roster-" + strconv.FormatUint(s.id, 10) }

// start starts the writer, and the reader, which calls handle with each
// stanza received.
func (s *session) start(handle func(*session, any)) {
	go s.writer()
	go s.reader(handle)
}

// kill ends the session (once) for err.
func (s *session) kill(err error) {
	s.killOnce.Do(func() {
		s.err = err
		close(s.dead)
	})
}

// closeConn closes the connection, once.
func (s *session) closeConn() {
	s.closeOnce.Do(func() { s.conn.Close() })
}

// writer writes the queued stanzas in order until the session ends.
func (s *session) writer() {
	defer close(s.writerDone)
	for {
		select {
		case st := <-s.out:
			if _, err := s.conn.SendOrg(st); err != nil {
				s.kill(fmt.Errorf("writing to the XMPP server: %w", err))
				return
			}
		case <-s.dead:
			return
		}
	}
}

// reader receives stanzas until the connection fails, then closes it.
func (s *session) reader(handle func(*session, any)) {
	defer close(s.readerDone)
	for {
		st, err := s.conn.Recv()
		if err != nil {
			s.kill(fmt.Errorf("reading from the XMPP server: %w", err))
			s.closeConn()
			return
		}
		s.lastRecv.Store(time.Now().UnixNano())
		handle(s, st)
	}
}

// enqueue queues a stanza for the writer.
func (s *session) enqueue(ctx context.Context, st string) error {
	select {
	case s.out <- st:
		return nil
	case <-s.dead:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueueAll queues stanzas, best effort: a session that ends drops them,
// and the next one starts afresh.
func (s *session) enqueueAll(ctx context.Context, out []string) {
	for _, st := range out {
		if s.enqueue(ctx, st) != nil {
			return
		}
	}
}

// run keeps the session alive until it ends, and ends it when ctx is
// done (saying goodbye first): it pings the server after keepalive of
// silence, and gives up when ackTimeout more pass without a word. It
// then fails the messages awaiting confirmation, closes the connection,
// and returns why the session ended.
func (s *session) run(ctx context.Context, keepalive, ackTimeout time.Duration) error {
	tick := time.NewTicker(max(keepalive/4, 10*time.Millisecond))
	defer tick.Stop()
	var lastPing time.Time
loop:
	for {
		select {
		case <-s.dead:
			break loop
		case <-ctx.Done():
			s.goodbye()
			break loop
		case now := <-tick.C:
			idle := now.Sub(time.Unix(0, s.lastRecv.Load()))
			switch {
			case idle > keepalive+ackTimeout:
				s.kill(fmt.Errorf("no answer from the XMPP server for %s", idle.Round(time.Second)))
			case idle > keepalive && now.Sub(lastPing) > keepalive:
				lastPing = now
				s.enqueue(ctx, pingStanza("keepalive-"+strconv.FormatInt(now.UnixNano(), 36), s.domain))
			}
		}
	}
	s.acks.fail(s.err)
	select {
	case <-s.readerDone: // the reader closed the connection
	default:
		// The reader is waiting for a server that stopped talking: close
		// the connection under it (once the writer is done with it) so
		// that it ends too.
		go func() {
			<-s.writerDone
			s.closeConn()
		}()
	}
	return s.err
}

// goodbye ends the session politely: the server ends the stream, and the
// reader sees it and closes the connection (waited for 2 s at most).
func (s *session) goodbye() {
	bye, cancel := context.WithTimeout(context.Background(), time.Second)
	s.enqueue(bye, presenceStanza("", "unavailable"))
	s.enqueue(bye, "</stream:stream>")
	cancel()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-s.readerDone:
	case <-t.C:
	}
	s.kill(errors.New("channel closed"))
}

// acks are a session's messages awaiting the server's confirmation (the
// answer to the ping written after each).
type acks struct {
	mu      sync.Mutex
	seq     uint64
	pending map[string]*pendingSend // by ping ID
	ended   error                   // set when the session ended
}

// pendingSend is a message waiting for the server's confirmation.
type pendingSend struct {
	key  string // the recipient's bare key
	seq  uint64
	done chan error // buffered; the first result wins
}

func (p *pendingSend) resolve(err error) {
	select {
	case p.done <- err:
	default:
	}
}

// add registers a message to key; the error is why the session ended.
func (a *acks) add(key string) (id string, p *pendingSend, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended != nil {
		return "", nil, a.ended
	}
	if a.pending == nil {
		a.pending = map[string]*pendingSend{}
	}
	a.seq++
	id = "ack-" + strconv.FormatUint(a.seq, 10)
	p = &pendingSend{key: key, seq: a.seq, done: make(chan error, 1)}
	a.pending[id] = p
	return id, p, nil
}

// remove forgets the message of ping id.
func (a *acks) remove(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pending, id)
}

// confirm resolves the message of ping id (if any): the server has
// handled it.
func (a *acks) confirm(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.pending[id]; p != nil {
		p.resolve(nil)
	}
}

// bounce fails the oldest message to key with err; false: there is none.
func (a *acks) bounce(key string, err error) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	var oldest *pendingSend
	for _, p := range a.pending {
		if p.key == key && (oldest == nil || p.seq < oldest.seq) {
			oldest = p
		}
	}
	if oldest == nil {
		return false
	}
	oldest.resolve(err)
	return true
}

// fail ends the session's confirmations for reason: every message
// awaiting one fails with a temporary error, and add returns reason.
func (a *acks) fail(reason error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = reason
	for _, p := range a.pending {
		p.resolve(delivery.Temporary(fmt.Errorf("im: connection lost before the server confirmed the message: %w", reason), 0))
	}
}
