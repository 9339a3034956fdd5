package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The demo's calendar system and users.
const (
	system = "cyrus"
	sharer = "fred"
	sharee = "wilma"
)

var users = []string{"fred", "wilma", "betty"}

// demo is what the demo started: each field is set once its part runs,
// and close stops those set, in reverse order.
type demo struct {
	bin        string
	reminderIn time.Duration
	log        *slog.Logger
	out        io.Writer

	dir      string // the demo's temporary directory: everything is in it
	cyrus    *peertest.Cyrus
	sink     *peertest.SMTP
	notifyd  *exec.Cmd
	exited   chan error // notifyd's exit, once
	logFile  *os.File
	baseURL  string
	key      string // the admin API key, to sign in to the console
	reminder time.Time
}

// start starts the SMTP sink, Cyrus, notifyd, subscribes the users and
// makes the changes that notifyd delivers. It checks ctx between steps.
func (d *demo) start(ctx context.Context) error {
	dir, err := os.MkdirTemp(peertest.TempRoot(), "notifyd-demo-")
	if err != nil {
		return err
	}
	d.dir = dir
	// Cyrus's master runs as the cyrus user: its directory, inside this
	// one, must be reachable.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Starting the demo in %s (Ctrl-C stops it and removes it)\n", dir)
	if d.bin == "" {
		d.log.Info("building notifyd")
		d.bin = filepath.Join(dir, "notifyd")
		build := exec.CommandContext(ctx, "go", "build", "-o", d.bin, "./cmd/notifyd")
		build.Dir = repoRoot()
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building notifyd: %v\n%s", err, out)
		}
	}
	d.key = "demo-" + randomHex(16)
	token := randomHex(16)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	d.baseURL = "http://" + addr

	d.log.Info("starting the SMTP sink")
	if d.sink, err = peertest.LaunchSMTP(filepath.Join(dir, "smtp")); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.log.Info("starting Cyrus IMAP", "users", strings.Join(users, ","))
	// Cyrus pings notifyd itself on every change to a calendar or a
	// notification collection (contrib/cyrus/notifyd-ping).
	if d.cyrus, err = peertest.LaunchCyrus(peertest.CyrusConfig{
		Users:   users,
		TempDir: dir,
		Ping:    &peertest.CyrusPing{URL: d.baseURL + "/v1/notifications", System: system, Token: token},
	}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.log.Info("starting notifyd", "url", d.baseURL)
	if err := d.startNotifyd(ctx, addr, token); err != nil {
		return err
	}
	for _, u := range users {
		if err := d.subscribe(u); err != nil {
			return err
		}
	}
	// Every user's calendar, readable with its alarms by the account
	// notifyd syncs with: notifyd fires their reminders and tells their
	// sharees of changes.
	for _, u := range users {
		if err := d.cyrus.Grant(u, "Default", peertest.CyrusGrant{}); err != nil {
			return err
		}
	}
	d.log.Info("fred shares his calendar with wilma")
	if err := d.cyrus.ShareCalendar(sharer, sharee, true); err != nil {
		return err
	}
	if d.reminderIn > 0 {
		return d.putReminder()
	}
	return nil
}

// startNotifyd writes notifyd's configuration and starts it, in its own
// process group (a Ctrl-C in the terminal reaches the demo, which stops
// it), and waits until it is ready.
func (d *demo) startNotifyd(ctx context.Context, addr, token string) error {
	cfg := fmt.Sprintf(`http:
  addr: %s
  shutdown_timeout: 5s
database:
  data_dir: %s
log:
  level: info
  format: text
named_api_keys:
  - name: demo-admin
    key: %s
    role: admin
systems:
  %s:
    caldav_url: %s/
    tokens: [%s]
    username: %s
    password: %s
    principal_prefix: /dav/principals/user/
    after_delivery: delete
    timeout: 5s
channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
console:
  enabled: true
`, addr, filepath.Join(d.dir, "data"), d.key, system, d.cyrus.BaseURL, token,
		peertest.CyrusNotifier, d.cyrus.Password(peertest.CyrusNotifier),
		d.sink.Host, d.sink.Port, filepath.Join(d.sink.Dir, "cert.pem"))
	path := filepath.Join(d.dir, "notifyd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return err
	}
	f, err := os.Create(d.logPath())
	if err != nil {
		return err
	}
	d.logFile = f
	cmd := exec.Command(d.bin, "serve", "-config", path)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	d.notifyd = cmd
	d.exited = make(chan error, 1)
	go func() { d.exited <- cmd.Wait() }()
	// Readiness is another process's state: asked until it answers.
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-d.exited:
			d.exited = nil
			return fmt.Errorf("notifyd exited at start: %v\n%s", err, tail(d.logPath(), 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(d.baseURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("notifyd not ready after a minute\n%s", tail(d.logPath(), 20))
		}
	}
}

func (d *demo) logPath() string { return filepath.Join(d.dir, "notifyd.log") }

// close stops what start started, in reverse order, and removes the
// temporary directory; it returns the first failure.
func (d *demo) close() error {
	var errs []error
	if d.notifyd != nil && d.exited != nil {
		_ = d.notifyd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			_ = d.notifyd.Process.Kill()
			<-d.exited
			errs = append(errs, errors.New("notifyd still ran 20s after SIGTERM: killed"))
		}
	}
	if d.logFile != nil {
		d.logFile.Close()
	}
	if d.sink != nil {
		if err := d.sink.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.cyrus != nil {
		if err := d.cyrus.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.dir != "" {
		if err := os.RemoveAll(d.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// repoRoot is this repository's top directory.
func repoRoot() string {
	return filepath.Join(filepath.Dir(peertest.Script("cyrus.sh")), "..", "..")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
