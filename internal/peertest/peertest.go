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

// WaitTCP waits until something accepts connections on addr.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Script returns the path of scripts/peers/NAME in this repository.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "peers", name)
}
