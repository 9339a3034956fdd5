// Package peertest starts the real servers notifyd's end-to-end tests talk
// to (Cyrus IMAP, Radicale and Xandikos for CalDAV, an SMTP sink, …) on
// free loopback ports, with their data in temporary directories, and stops
// them afterwards.
//
// scripts/peers/install.sh installs them (make test runs it). When a peer
// is not installed, tests that need it fail under CI (CI=true), where it
// must be there, and are skipped with a loud reason elsewhere.
package peertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Need fails (under CI) or skips (elsewhere) the test unless every path or
// command in cmds exists.
func Need(t testing.TB, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err == nil {
			continue
		}
		msg := fmt.Sprintf("PEER MISSING: %s is not installed; run scripts/peers/install.sh (make test does) to run this test against the real peer", c)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Poll calls done every interval until it returns true, and reports
// whether it did before timeout.
//
// It is the one way the tests wait for another process that offers no
// event to wait on: a port that starts listening, the notifyd binary's
// metrics, API or database, a peer's state read over its protocol.
// Wherever there is an event (a channel, inotify on a Maildir, a
// server's answer, a log line written by a process the test runs), the
// tests wait on it instead. A wait through Poll cannot make a test
// flaky: it waits for the condition itself, never for a duration; the
// interval only sets how soon the condition is seen; and callers give
// deadlines far beyond what the wait takes on a loaded machine, so that
// only a hung or broken run reaches them, and say what they waited for.
func Poll(timeout, interval time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}

// WaitTCP waits until something accepts connections on addr (Poll: a
// server process says nothing when it starts listening).
func WaitTCP(addr string, timeout time.Duration) error {
	var err error
	if Poll(timeout, 50*time.Millisecond, func() bool {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
		}
		return err == nil
	}) {
		return nil
	}
	return fmt.Errorf("nothing listens on %s after %s: %w", addr, timeout, err)
}

// Script returns the path of scripts/peers/NAME in this repository.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "peers", name)
}
