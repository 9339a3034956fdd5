package im

import (
	"context"
	"sync"
	"time"
)

// lister holds the function that lists the addresses to watch.
type lister struct {
	mu     sync.Mutex
	list   func(ctx context.Context) ([]string, error)
	closed bool
}

// set replaces the function, and calls start (under the lock, so that
// Close does not miss it) when it is the first one given to an open
// channel.
func (l *lister) set(list func(ctx context.Context) ([]string, error), start func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.list == nil
	l.list = list
	if first && !l.closed {
		start()
	}
}

// get returns the function.
func (l *lister) get() func(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.list
}

// closing runs cancel, after which set starts nothing.
func (l *lister) closing(cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	cancel()
}

// WatchAddresses gives the channel the addresses it may be asked to
// deliver to (delivery.AddressWatcher): it lists them now and every
// minute, asks each new one for a presence subscription, and pre-approves
// theirs, so that presence is known before a message comes.
func (c *Channel) WatchAddresses(list func(ctx context.Context) ([]string, error)) {
	c.lists.set(list, func() {
		c.wg.Add(1)
		go c.watch()
	})
}

func (c *Channel) watch() {
	defer c.wg.Done()
	t := time.NewTicker(c.watchEvery)
	defer t.Stop()
	for {
		c.refresh()
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh lists the addresses to watch and subscribes to the new ones.
func (c *Channel) refresh() {
	ctx, cancel := context.WithTimeout(c.ctx, listTimeout)
	addrs, err := c.lists.get()(ctx)
	cancel()
	if err != nil {
		if c.ctx.Err() == nil {
			c.log.Warn("im: cannot list the addresses to watch; keeping the previous list", "err", err)
		}
		return
	}
	watched := make(map[string]string, len(addrs))
	for _, a := range addrs {
		bare, _, err := parseJID(a)
		if err != nil {
			c.log.Debug("im: not watching an address that is not a JID", "address", a)
			continue
		}
		if _, dup := watched[bareKey(bare)]; !dup {
			watched[bareKey(bare)] = bare
		}
	}
	s, _ := c.link.state()
	if s == nil {
		c.book.watch(0, watched)
		return
	}
	s.enqueueAll(c.ctx, c.book.watch(s.id, watched))
}
