package e2e

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// sinkWatch counts the messages the SMTP sink stores from the moment it
// is made, as they arrive (peertest.MaildirWatch: inotify on the
// Maildir). Unlike listing the directory every few milliseconds, it
// costs next to nothing while notifyd's turn is measured and sees the
// last message when it lands.
type sinkWatch struct{ w *peertest.MaildirWatch }

// watchSink starts counting the sink's new messages.
func watchSink(b testing.TB, sink *peertest.SMTP) *sinkWatch {
	return &sinkWatch{w: sink.Watch(b)}
}

// wait returns once n messages have arrived since the watch began, and
// fails the benchmark after timeout.
func (s *sinkWatch) wait(b testing.TB, n int, timeout time.Duration) {
	deadline := time.After(timeout)
	for got := 0; got < n; {
		select {
		case c, ok := <-s.w.Arrivals():
			if !ok {
				b.Fatalf("the sink's Maildir watch ended after %d of %d messages", got, n)
			}
			got += c
		case <-deadline:
			b.Fatalf("%d of %d messages in the sink after %s", got, n, timeout)
		}
	}
}
