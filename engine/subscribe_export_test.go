package engine

import "github.com/riverqueue/river"

// SubscribeForTest subscribes to the events of the jobs this engine works
// (River's Client.Subscribe), so that tests wait for jobs to end instead
// of polling the queue.
func (e *Engine) SubscribeForTest(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return e.queue.client.(interface {
		Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	}).Subscribe(kinds...)
}
