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

// RadicaleNotifier is the service account of the instances StartRadicale
// makes: its rights file lets it read every principal and every calendar.
const RadicaleNotifier = "notifier"

// DefaultRadicaleUsers are the users StartRadicale creates when given none.
var DefaultRadicaleUsers = []string{"fred", "wilma"}

// Radicale is a private Radicale 3.1 instance (scripts/peers/radicale.sh):
// CalDAV with htpasswd authentication (plain passwords) and filesystem
// storage in its own directory. Principals are /USER/ and each is its own
// calendar home; a user has no calendar until one is made (MakeCalendar).
// Every user's password is Password(user) (name + "pw"). Users read and
// write only their own collections; RadicaleNotifier reads everyone's.
type Radicale struct {
	// BaseURL is the CalDAV server: "http://127.0.0.1:PORT".
	BaseURL string
	// Port is the TCP port it listens on, the same across Stop and Start.
	Port int
	// Dir holds the configuration (config, users, rights), the data
	// (collections/) and the log (radicale.log: every request).
	Dir string
	// Users are the users created besides RadicaleNotifier.
	Users []string

	hook    string
	mu      sync.Mutex
	running bool
}

// RadicaleConfig configures StartRadicaleWith.
type RadicaleConfig struct {
	// Users are the users to create besides RadicaleNotifier
	// (DefaultRadicaleUsers when empty).
	Users []string
	// Hook is a shell command Radicale runs after every change to its
	// storage, with %(user)s replaced by the shell-quoted name of the user
	// who made it (empty: none). It runs before the request is answered,
	// and if it fails the request fails: end it with "|| true".
	Hook string
}

// StartRadicale starts a fresh Radicale on a free loopback port with the
// given users (DefaultRadicaleUsers when none) plus RadicaleNotifier, and
// stops it when the test ends. It skips the test (fails under CI) when
// Radicale is not installed (scripts/peers/install.sh installs Debian's
// radicale).
func StartRadicale(t testing.TB, users ...string) *Radicale {
	t.Helper()
	return StartRadicaleWith(t, RadicaleConfig{Users: users})
}

// StartRadicaleWith is StartRadicale with a storage hook.
func StartRadicaleWith(t testing.TB, cfg RadicaleConfig) *Radicale {
	t.Helper()
	Need(t, "radicale", "bash")
	users := cfg.Users
	if len(users) == 0 {
		users = DefaultRadicaleUsers
	}
	if strings.ContainsAny(cfg.Hook, "\r\n") {
		t.Fatalf("Radicale hook %q: one line only", cfg.Hook)
	}
	r := &Radicale{Dir: t.TempDir(), Users: append([]string(nil), users...), hook: cfg.Hook}
	t.Cleanup(func() {
		r.mu.Lock()
		running := r.running
		r.mu.Unlock()
		if running {
			if out, err := r.script("stop", r.Dir); err != nil {
				t.Errorf("stopping Radicale: %v\n%s", err, out)
			}
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(r.Dir, "radicale.log")); err == nil {
				t.Logf("radicale.log:\n%s", b)
			}
		}
	})
	var out string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		r.Port = FreePort(t)
		args := []string{"start", r.Dir, strconv.Itoa(r.Port)}
		for _, u := range append([]string{RadicaleNotifier}, users...) {
			args = append(args, u, r.Password(u))
		}
		if out, err = r.script(args...); err == nil {
			break
		}
		// A port taken between FreePort and the start: try another.
		if !strings.Contains(strings.ToLower(out), "already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting Radicale: %v\n%s", err, out)
	}
	r.running = true
	r.BaseURL = "http://127.0.0.1:" + strconv.Itoa(r.Port)
	t.Logf("%s", strings.TrimSpace(out))
	return r
}

func (r *Radicale) script(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{Script("radicale.sh")}, args...)...)
	cmd.Env = append(os.Environ(), "RADICALE_HOOK="+r.hook)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Stop stops the server, keeping its data and port for Start (outage
// tests).
func (r *Radicale) Stop(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	if out, err := r.script("stop", r.Dir); err != nil {
		t.Fatalf("stopping Radicale: %v\n%s", err, out)
	}
	r.running = false
}

// Start restarts a server Stop stopped, on the same port with the same
// data and users.
func (r *Radicale) Start(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return
	}
	if out, err := r.script("start", r.Dir, strconv.Itoa(r.Port)); err != nil {
		t.Fatalf("restarting Radicale: %v\n%s", err, out)
	}
	r.running = true
}

// Name is "radicale".
func (r *Radicale) Name() string { return "radicale" }

// URL returns BaseURL.
func (r *Radicale) URL() string { return r.BaseURL }

// ServiceAccount returns RadicaleNotifier.
func (r *Radicale) ServiceAccount() string { return RadicaleNotifier }

// Password returns user's password.
func (r *Radicale) Password(user string) string { return user + "pw" }

// PrincipalHref returns user's principal path, "/NAME/".
func (r *Radicale) PrincipalHref(user string) string { return "/" + user + "/" }

// CalendarHome returns user's calendar home path, "/NAME/" (the principal
// itself).
func (r *Radicale) CalendarHome(user string) string { return "/" + user + "/" }

// Request sends method to path on the server as user (basic auth) and
// returns the status, headers and body.
func (r *Radicale) Request(t testing.TB, user, method, path, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return davRequest(t, r.BaseURL, user, r.Password(user), method, path, contentType, body, header...)
}

// String names the instance in test logs.
func (r *Radicale) String() string { return fmt.Sprintf("radicale at %s (data %s)", r.BaseURL, r.Dir) }
