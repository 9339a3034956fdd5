package delivery

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// Limiter paces one channel's messages so that a burst never exceeds the
// provider's limit (each channel's rate_limit and burst settings). A nil
// Limiter does not limit.
type Limiter struct{ l *rate.Limiter }

// NewLimiter allows perSecond messages a second with bursts of burst (at
// least 1); it returns nil, no limit, when perSecond is not positive.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	return &Limiter{rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))}
}

// Wait blocks until the next message may go. A wait ended by ctx is a
// temporary error naming what was waiting (e.g. "email to a@example.org").
func (l *Limiter) Wait(ctx context.Context, what string) error {
	if l == nil {
		return nil
	}
	if err := l.l.Wait(ctx); err != nil {
		return Temporary(fmt.Errorf("%s: waiting for the rate limit: %w", what, err), 0)
	}
	return nil
}
