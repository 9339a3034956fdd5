package delivery

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A limit of 2 messages a second with a burst of 3 lets 3 go at once,
// then one every 500 ms, on synctest's fake clock.
func TestLimiterPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(2, 3)
		start := time.Now()
		var at []time.Duration
		for range 5 {
			if err := l.Wait(context.Background(), "test"); err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Since(start))
		}
		want := []time.Duration{0, 0, 0, 500 * time.Millisecond, time.Second}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("messages went at %v, want %v", at, want)
			}
		}
	})
}

// A wait cut short by its context is a temporary error naming what waited;
// no limit (nil) never waits.
func TestLimiterWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(1, 1)
		if err := l.Wait(context.Background(), "first"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := l.Wait(ctx, "email to a@example.org")
		if ok, _ := IsTemporary(err); !ok || err == nil {
			t.Fatalf("%v, want a temporary error", err)
		}
		if got := err.Error(); !strings.HasPrefix(got, "email to a@example.org") {
			t.Errorf("error %q does not name what waited", got)
		}
		var none *Limiter
		if NewLimiter(0, 5) != nil || none.Wait(ctx, "x") != nil {
			t.Error("no limit waited or refused")
		}
	})
}
