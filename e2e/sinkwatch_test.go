package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/notifyd/notifyd/internal/peertest"
)

// sinkWatch counts the messages the SMTP sink stores from the moment it
// is made, as they arrive: inotify reports each file the sink moves into
// its Maildir's new/ directory. Unlike listing the directory every few
// milliseconds, it costs next to nothing while notifyd's turn is measured
// and sees the last message when it lands.
type sinkWatch struct {
	f      *os.File
	events chan int // how many messages each read reported
}

// watchSink starts counting the sink's new messages.
func watchSink(b testing.TB, sink *peertest.SMTP) *sinkWatch {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		b.Fatalf("inotify: %v", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, filepath.Join(sink.Dir, "maildir", "new"), syscall.IN_MOVED_TO|syscall.IN_CREATE); err != nil {
		syscall.Close(fd)
		b.Fatalf("inotify watch of the sink's Maildir: %v", err)
	}
	w := &sinkWatch{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan int, 1024)}
	go w.read()
	b.Cleanup(func() { w.f.Close() })
	return w
}

// read sends the count of message files in each batch of events until
// the watch is closed.
func (w *sinkWatch) read() {
	defer close(w.events)
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
		w.events <- count
	}
}

// wait returns once n messages have arrived since the watch began, and
// fails the benchmark after timeout.
func (w *sinkWatch) wait(b testing.TB, n int, timeout time.Duration) {
	deadline := time.After(timeout)
	for got := 0; got < n; {
		select {
		case c, ok := <-w.events:
			if !ok {
				b.Fatalf("the sink's Maildir watch ended after %d of %d messages", got, n)
			}
			got += c
		case <-deadline:
			b.Fatalf("%d of %d messages in the sink after %s", got, n, timeout)
		}
	}
}
