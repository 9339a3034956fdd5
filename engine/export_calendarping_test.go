package engine

import "time"

// SetNowForTest sets the intake's clock (which also times the readings
// of calendar paths). Call it before the intake is used.
func (in *Intake) SetNowForTest(now func() time.Time) { in.now = now }
