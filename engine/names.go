package engine

import "sync"

// nameCache remembers calendar display names, bounded in size.
type nameCache struct {
	mu    sync.Mutex
	max   int
	names map[string]string
}

func newNameCache(max int) *nameCache { return &nameCache{max: max, names: make(map[string]string)} }

func (c *nameCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.names[key]
	return v, ok
}

func (c *nameCache) put(key, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.names) >= c.max {
		clear(c.names) // crude but bounded; names are cheap to read again
	}
	c.names[key] = name
}
