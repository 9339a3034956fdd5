package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNameCacheFetchesOnceForConcurrentLookups(t *testing.T) {
	c := newNameCache(10)
	var fetches atomic.Int32
	fetch := func() (string, error) {
		fetches.Add(1)
		time.Sleep(20 * time.Millisecond)
		return "Work", nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := c.get(context.Background(), "cal\x00/c/work/", fetch); got != "Work" {
				t.Errorf("got %q", got)
			}
		}()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 16 concurrent lookups, want 1", n)
	}
	if got := c.get(context.Background(), "cal\x00/c/work/", fetch); got != "Work" || fetches.Load() != 1 {
		t.Fatalf("cached lookup fetched again")
	}
}
