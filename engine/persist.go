package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd"
)

// Waits between attempts of persist.
const (
	persistFirstWait = 50 * time.Millisecond
	persistMaxWait   = 5 * time.Second
)

// persist runs write until it succeeds, fails for good, or ctx ends,
// trying again (with backoff) while the database cannot take writes
// (notifyd.ErrUnavailable: disk full, read-only, I/O errors). It is for
// records of what has already happened outside, such as a message the
// provider accepted: failing the job instead would run it again, and send
// the message twice.
func persist(ctx context.Context, log *slog.Logger, write func() error) error {
	wait := persistFirstWait
	for {
		err := write()
		if err == nil || !errors.Is(err, notifyd.ErrUnavailable) {
			return err
		}
		log.Warn("the database cannot take writes; trying again to record the outcome (check disk space)", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, persistMaxWait)
	}
}
