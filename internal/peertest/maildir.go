package peertest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// MaildirWatch reports the messages the SMTP sink stores as they land:
// inotify tells of each file the sink moves into its Maildir's new/
// directory. A test waits on it instead of listing the directory over and
// over.
type MaildirWatch struct {
	f        *os.File
	arrivals chan int
	done     chan struct{}
	once     sync.Once
}

// Watch starts watching the sink's Maildir; Close, or the end of the
// test, stops it. Messages stored before Watch are not reported.
func (s *SMTP) Watch(tb testing.TB) *MaildirWatch {
	tb.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		tb.Fatalf("inotify: %v", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, filepath.Join(s.Dir, "maildir", "new"), syscall.IN_MOVED_TO|syscall.IN_CREATE); err != nil {
		syscall.Close(fd)
		tb.Fatalf("inotify watch of the sink's Maildir: %v", err)
	}
	w := &MaildirWatch{f: os.NewFile(uintptr(fd), "inotify"), arrivals: make(chan int, 1024), done: make(chan struct{})}
	go w.read()
	tb.Cleanup(w.Close)
	return w
}

// Arrivals receives, for each batch of events, how many messages landed;
// it is closed when the watch ends.
func (w *MaildirWatch) Arrivals() <-chan int { return w.arrivals }

// Close stops the watch.
func (w *MaildirWatch) Close() {
	w.once.Do(func() {
		close(w.done)
		w.f.Close()
	})
}

// read sends the count of message files in each batch of events until
// the watch is closed.
func (w *MaildirWatch) read() {
	defer close(w.arrivals)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		count := 0
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			if name = bytes.TrimRight(name, "\x00"); len(name) > 0 && name[0] != '.' {
				count++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
		select {
		case w.arrivals <- count:
		case <-w.done:
			return
		}
	}
}

// Await returns the stored messages once ok holds for them, looking
// again each time a message lands; it fails the test, saying what it
// waited for, after timeout.
func (s *SMTP) Await(t testing.TB, timeout time.Duration, what string, ok func([]ReceivedMessage) bool) []ReceivedMessage {
	t.Helper()
	w := s.Watch(t) // before the first look: no arrival goes unseen
	defer w.Close()
	deadline := time.After(timeout)
	for {
		msgs := s.Messages(t)
		if ok(msgs) {
			return msgs
		}
		select {
		case _, open := <-w.Arrivals():
			if !open {
				t.Fatalf("the SMTP sink's Maildir watch ended while waiting for %s", what)
			}
		case <-deadline:
			t.Fatalf("the SMTP sink holds %d messages after %s, not %s", len(msgs), timeout, what)
		}
	}
}
