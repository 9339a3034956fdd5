package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func TestNameCacheFetchesOnceForConcurrentLookups(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newNameCache(10)
		var fetches atomic.Int32
		release := make(chan struct{})
		fetch := func() (string, error) {
			fetches.Add(1)
			<-release
			return "Work", nil
		}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if got := c.get(context.Background(), "cal\x00/c/work/", fetch); got != "Work" {
					t.Errorf("got %q", got)
				}
			})
		}
		synctest.Wait() // every lookup is blocked: in the fetch, or waiting for it
		close(release)
		wg.Wait()
		if n := fetches.Load(); n != 1 {
			t.Fatalf("%d fetches for 16 concurrent lookups, want 1", n)
		}
		if got := c.get(context.Background(), "cal\x00/c/work/", fetch); got != "Work" || fetches.Load() != 1 {
			t.Fatalf("cached lookup fetched again")
		}
	})
}
