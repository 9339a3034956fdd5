package email

import (
	"context"
	"testing"
	"time"
)

// Deliveries arrive one per Send call: the connection of one is kept for
// the next, so a stream of them costs one TLS handshake, not one each.
func TestSendKeepsTheConnectionForTheNextSend(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	s := ts.sender(t, ts.config())
	defer s.Close()
	for i, to := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		if errs := s.Send(context.Background(), []*Message{testMessage(to, "n")}); errs[0] != nil {
			t.Fatalf("send %d: %v", i, errs[0])
		}
	}
	ts.mu.Lock()
	sessions := ts.sessions
	ts.mu.Unlock()
	if sessions != 1 {
		t.Fatalf("%d connections for 3 Send calls, want 1 kept and reused", sessions)
	}
	if got := len(ts.received()); got != 3 {
		t.Fatalf("server got %d messages, want 3", got)
	}
}

// A kept connection the server has hung up on is replaced, and the
// message goes through once.
func TestSendReplacesAConnectionTheServerDropped(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	s := ts.sender(t, ts.config())
	defer s.Close()
	if errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1")}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	ts.hangUp()
	time.Sleep(50 * time.Millisecond)
	if errs := s.Send(context.Background(), []*Message{testMessage("b@example.org", "2")}); errs[0] != nil {
		t.Fatalf("send after the server dropped the kept connection: %v", errs[0])
	}
	got := ts.received()
	if len(got) != 2 || got[1].to[0] != "b@example.org" {
		t.Fatalf("server got %d messages (%v), want each once", len(got), got)
	}
	ts.mu.Lock()
	sessions := ts.sessions
	ts.mu.Unlock()
	if sessions != 2 {
		t.Fatalf("%d connections, want 2 (the dropped one replaced)", sessions)
	}
}

// Close ends the kept sessions; later Sends still work but keep nothing.
func TestSenderClose(t *testing.T) {
	ts := startServer(t, serverOptions{tls: true})
	s := ts.sender(t, ts.config())
	if errs := s.Send(context.Background(), []*Message{testMessage("a@example.org", "1")}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if len(s.idle) != 1 {
		t.Fatalf("%d idle connections after a Send, want 1", len(s.idle))
	}
	s.Close()
	if len(s.idle) != 0 {
		t.Fatalf("%d idle connections after Close, want 0", len(s.idle))
	}
	if errs := s.Send(context.Background(), []*Message{testMessage("b@example.org", "2")}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if len(s.idle) != 0 {
		t.Fatal("a closed Sender kept a connection")
	}
}
