package engine

import (
	"context"
	"sync"
)

// nameCache remembers calendar display names, bounded in size. Concurrent
// lookups of one name make one request: the others wait for it.
type nameCache struct {
	mu       sync.Mutex
	max      int
	names    map[string]string
	inflight map[string]chan struct{}
}

func newNameCache(max int) *nameCache {
	return &nameCache{max: max, names: make(map[string]string), inflight: make(map[string]chan struct{})}
}

// get returns the name cached under key, calling fetch (once, however many
// ask at the same time) when there is none. A failed fetch caches "".
func (c *nameCache) get(ctx context.Context, key string, fetch func() (string, error)) string {
	c.mu.Lock()
	for {
		if v, ok := c.names[key]; ok {
			c.mu.Unlock()
			return v
		}
		wait, busy := c.inflight[key]
		if !busy {
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ""
		}
		c.mu.Lock()
	}
	done := make(chan struct{})
	c.inflight[key] = done
	c.mu.Unlock()

	name, err := fetch()
	if err != nil {
		name = ""
	}
	c.mu.Lock()
	if len(c.names) >= c.max {
		clear(c.names) // crude but bounded; names are cheap to read again
	}
	c.names[key] = name
	delete(c.inflight, key)
	close(done)
	c.mu.Unlock()
	return name
}
