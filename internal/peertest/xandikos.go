package peertest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Xandikos is a private Xandikos 0.2 instance (scripts/peers/xandikos.sh)
// serving one principal, /USER/, with calendar home /USER/calendars/ and a
// calendar /USER/calendars/calendar/ made at the start; each calendar is a
// git repository in its own directory.
//
// Xandikos has no authentication: any credentials (or none) act as the
// one principal, so the service account reads everything. Fine on a
// loopback port; a test that needs two principals starts two instances.
type Xandikos struct {
	// BaseURL is the CalDAV server: "http://127.0.0.1:PORT".
	BaseURL string
	// Port is the TCP port it listens on, the same across Stop and Start.
	Port int
	// Dir holds the data (data/) and the log (xandikos.log: every request,
	// and the traceback of each 500).
	Dir string
	// User is the principal's name.
	User string

	mu      sync.Mutex
	running bool
}

// XandikosNotifier is the user name the tests give as Xandikos's service
// account (Xandikos ignores credentials).
const XandikosNotifier = "notifier"

// XandikosDefaultCalendar is the calendar Xandikos makes in the home at
// the first start.
const XandikosDefaultCalendar = "calendar"

// StartXandikos starts a fresh Xandikos on a free loopback port serving
// user's principal ("fred" when empty), and stops it when the test ends. It
// skips the test (fails under CI) when Xandikos is not installed
// (scripts/peers/install.sh installs Debian's xandikos).
func StartXandikos(t testing.TB, user string) *Xandikos {
	t.Helper()
	Need(t, "xandikos", "bash")
	if user == "" {
		user = "fred"
	}
	x := &Xandikos{Dir: t.TempDir(), User: user}
	t.Cleanup(func() {
		x.mu.Lock()
		running := x.running
		x.mu.Unlock()
		if running {
			if out, err := x.script("stop", x.Dir); err != nil {
				t.Errorf("stopping Xandikos: %v\n%s", err, out)
			}
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(x.Dir, "xandikos.log")); err == nil {
				t.Logf("xandikos.log:\n%s", b)
			}
		}
	})
	var out string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		x.Port = FreePort(t)
		if out, err = x.script("start", x.Dir, strconv.Itoa(x.Port), user); err == nil {
			break
		}
		// A port taken between FreePort and the start: try another.
		if !strings.Contains(strings.ToLower(out), "already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting Xandikos: %v\n%s", err, out)
	}
	x.running = true
	x.BaseURL = "http://127.0.0.1:" + strconv.Itoa(x.Port)
	t.Logf("%s", strings.TrimSpace(out))
	return x
}

func (x *Xandikos) script(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", append([]string{Script("xandikos.sh")}, args...)...).CombinedOutput()
	return string(out), err
}

// Stop stops the server, keeping its data and port for Start (outage
// tests).
func (x *Xandikos) Stop(t testing.TB) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.running {
		return
	}
	if out, err := x.script("stop", x.Dir); err != nil {
		t.Fatalf("stopping Xandikos: %v\n%s", err, out)
	}
	x.running = false
}

// Start restarts a server Stop stopped, on the same port with the same
// data.
func (x *Xandikos) Start(t testing.TB) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running {
		return
	}
	if out, err := x.script("start", x.Dir, strconv.Itoa(x.Port), x.User); err != nil {
		t.Fatalf("restarting Xandikos: %v\n%s", err, out)
	}
	x.running = true
}

// Name is "xandikos".
func (x *Xandikos) Name() string { return "xandikos" }

// URL returns BaseURL.
func (x *Xandikos) URL() string { return x.BaseURL }

// ServiceAccount returns XandikosNotifier.
func (x *Xandikos) ServiceAccount() string { return XandikosNotifier }

// Password returns user's password (which Xandikos ignores).
func (x *Xandikos) Password(user string) string { return user + "pw" }

// PrincipalHref returns the principal's path, "/USER/". Xandikos serves
// only x.User's principal: for another user this is a path it does not
// serve as a principal.
func (x *Xandikos) PrincipalHref(user string) string { return "/" + user + "/" }

// CalendarHome returns the principal's calendar home path,
// "/USER/calendars/".
func (x *Xandikos) CalendarHome(user string) string { return "/" + user + "/calendars/" }

// Request sends method to path on the server (with user's basic auth,
// which Xandikos ignores) and returns the status, headers and body.
// Xandikos refuses a body whose Content-Type is not an XML type (415):
// give one.
func (x *Xandikos) Request(t testing.TB, user, method, path, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return davRequest(t, x.BaseURL, user, x.Password(user), method, path, contentType, body, header...)
}

// String names the instance in test logs.
func (x *Xandikos) String() string { return fmt.Sprintf("xandikos at %s (data %s)", x.BaseURL, x.Dir) }
