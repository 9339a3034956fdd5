package engine

import (
	"context"
	"time"
)

// SetNowForTest sets the intake's clock (which also times the readings
// of calendar paths). Call it before the intake is used.
func (in *Intake) SetNowForTest(now func() time.Time) { in.now = now }

// PollCalendarsForTest runs a calendar poll now as if every principal's
// calendar sync were due: it queues those not queued already.
func (e *Engine) PollCalendarsForTest(ctx context.Context) error {
	now := time.Now()
	return e.pollCalendars(ctx, now, now.Add(time.Hour))
}
