// Package e2e tests the real notifyd binary as an operator runs it: built
// from ./cmd/notifyd, configured by a YAML file, talked to over HTTP, and
// killed.
package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/notifyd/notifyd/internal/peertest"
)

// binary is the notifyd built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "notifyd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "notifyd")
	build := exec.Command("go", "build", "-o", binary, "../cmd/notifyd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build notifyd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is one notifyd process with its config and data.
type instance struct {
	t       testing.TB
	dir     string
	config  string
	baseURL string
	cmd     *exec.Cmd
	log     *logBuffer
	exited  chan error
	sqldb   *sql.DB
	// env is added to the process's environment (NOTIFYD_* overrides).
	env []string
}

const (
	pingToken = "e2e-ping-token-0123456789"
	apiKey    = "e2e-operator-key-0123456789"
)

// newInstance writes a config for a fresh data directory and a free port,
// with one system "cal" whose CalDAV server is unreachable and job workers
// off: pings are queued and wait.
func newInstance(t *testing.T) *instance {
	return newInstanceWith(t, fmt.Sprintf(`systems:
  cal:
    caldav_url: http://127.0.0.1:1/
    tokens: [%s]
jobs:
  run: false
`, pingToken))
}

// newInstanceWith is newInstance with the given YAML (systems, channels,
// jobs) after the http, database, log and api_keys sections.
func newInstanceWith(t testing.TB, extra string) *instance {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`http:
  addr: %s
  shutdown_timeout: 5s
database:
  data_dir: %s
log:
  level: info
api_keys: [%s]
`, addr, filepath.Join(dir, "data"), apiKey) + extra
	path := filepath.Join(dir, "notifyd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &instance{t: t, dir: dir, config: path, baseURL: "http://" + addr}
}

// start runs notifyd serve and waits until /readyz answers 200. The log
// goes on from the previous run's, if any.
func (in *instance) start() {
	in.t.Helper()
	if in.log == nil {
		in.log = &logBuffer{}
	}
	in.cmd = exec.Command(binary, "serve", "-config", in.config)
	in.cmd.Env = append(os.Environ(), in.env...)
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.exited = make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(in.cmd, in.exited)
	in.t.Cleanup(func() { in.cmd.Process.Kill() })
	// Readiness is a state of another process: polled (peertest.Poll).
	var exited bool
	var exitErr error
	ready := peertest.Poll(time.Minute, pollInterval, func() bool {
		select {
		case exitErr = <-in.exited:
			exited = true
			return true
		default:
		}
		resp, err := http.Get(in.baseURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	switch {
	case exited:
		in.t.Fatalf("notifyd exited before it was ready: %v\n%s", exitErr, in.log)
	case !ready:
		in.t.Fatalf("notifyd not ready after a minute\n%s", in.log)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (in *instance) kill() {
	in.t.Helper()
	in.cmd.Process.Kill()
	<-in.exited
}

// stop sends SIGTERM and returns the exit error and how long it took.
func (in *instance) stop() (error, time.Duration) {
	in.t.Helper()
	start := time.Now()
	in.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-in.exited:
		return err, time.Since(start)
	case <-time.After(20 * time.Second):
		in.cmd.Process.Kill()
		return fmt.Errorf("still running 20s after SIGINT"), time.Since(start)
	}
}

// db opens the instance's SQLite database for inspection.
func (in *instance) db() *sql.DB {
	in.t.Helper()
	if in.sqldb != nil {
		return in.sqldb
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(in.dir, "data", "notifyd.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { db.Close() })
	in.sqldb = db
	return db
}

// api calls notifyd's REST API with the operator key and decodes the JSON
// answer.
func (in *instance) api(t testing.TB, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.baseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (in *instance) ping(ctx context.Context, client *http.Client, hrefs ...string) (int, error) {
	body := fmt.Sprintf(`{"system":"cal","token":%q,"hrefs":["%s"]}`, pingToken, strings.Join(hrefs, `","`))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.baseURL+"/v1/notifications", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// logBuffer collects a process's output; safe to read while it is
// written, and a reader can wait for the next write (await).
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// changedLocked returns a channel closed at the next write; b.mu is held.
func (b *logBuffer) changedLocked() chan struct{} {
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cyrusEmailConfig is the YAML (after newInstanceWith's sections) of a
// notifyd that syncs the system "cyrus" from cy, deleting what it
// delivered, and sends email to sink; jobs is the body of its jobs
// section, indented.
func cyrusEmailConfig(t testing.TB, cy *peertest.Cyrus, sink *peertest.SMTP, jobs string) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`systems:
  cyrus:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    after_delivery: delete
    timeout: 5s
channels:
  smtp:
    host: %s
    port: %d
    ca_file: %s
    from: notifyd@localhost
    timeout: 5s
jobs:
%s`, cy.BaseURL, pingToken, sink.Host, sink.Port, ca, jobs)
}
