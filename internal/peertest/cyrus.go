package peertest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cyrus service accounts and the users StartCyrus creates by default.
const (
	// CyrusNotifier is the service account notifyd syncs with: it has the
	// rights lrswipkxtecdn on every user's #notifications and lr on their
	// #calendars.
	CyrusNotifier = "notifier"
	// CyrusAdmin is the Cyrus administrator (refused other users'
	// notifications: use CyrusNotifier).
	CyrusAdmin = "admin"
)

// DefaultCyrusUsers are the users StartCyrus creates when given none.
var DefaultCyrusUsers = []string{"fred", "wilma", "carol", "dave"}

// Cyrus is a private Cyrus IMAP 3.6 instance with CalDAV and notification
// collections, started by scripts/peers/cyrus.sh. Every user's password is
// Password(user) (name + "pw").
//
// Cyrus logs only to syslog: when something fails, there is no log file
// under Dir to read; look at the HTTP answers (and the script's output in
// the test log).
type Cyrus struct {
	// BaseURL is the CalDAV server: "http://127.0.0.1:PORT".
	BaseURL string
	// IMAPAddr is the IMAP listener, "127.0.0.1:PORT".
	IMAPAddr string
	// Dir holds the instance's configuration and data.
	Dir string
	// Users are the users created besides admin and notifier.
	Users []string

	imapPort, httpPort int
	pings              bool // the notifyd-ping recipe is set up

	mu      sync.Mutex
	running bool
}

// StartCyrus starts a fresh Cyrus on free loopback ports with the given
// users (DefaultCyrusUsers when none), plus admin and notifier, and stops
// it (and removes its data) when the test ends. It skips the test (fails
// under CI) when Cyrus is not installed or the test does not run as root.
func StartCyrus(t testing.TB, users ...string) *Cyrus {
	t.Helper()
	return StartCyrusWith(t, CyrusConfig{Users: users})
}

// StartCyrusWith is StartCyrus with the options of cfg.
func StartCyrusWith(t testing.TB, cfg CyrusConfig) *Cyrus {
	t.Helper()
	Need(t, "/usr/lib/cyrus/bin/master", "saslpasswd2", "/usr/bin/python3", "bash")
	if os.Geteuid() != 0 {
		msg := "PEER MISSING: Cyrus runs as root (its master drops to the cyrus user); run the tests as root to use it"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	users := cfg.Users
	if len(users) == 0 {
		users = DefaultCyrusUsers
	}
	if cfg.Ping != nil {
		Need(t, "curl")
	}
	c, out, err := launchCyrus(users, cfg)
	if err != nil {
		t.Fatalf("starting Cyrus: %v", err)
	}
	t.Logf("%s", strings.TrimSpace(out))
	t.Cleanup(func() {
		if err := c.halt(); err != nil {
			t.Errorf("%v", err)
		}
		if c.pings && t.Failed() {
			t.Logf("notifyd-ping.log:\n%s", c.PingLog(t))
		}
		_ = os.RemoveAll(c.Dir)
	})
	return c
}

// LaunchCyrus is StartCyrusWith for a program that is not a test (make
// demo): it returns an error instead of failing a test, and the caller
// stops the instance and removes its data with Close. It also prints
// nothing; Cyrus still needs root and the peers installed.
func LaunchCyrus(cfg CyrusConfig) (*Cyrus, error) {
	need := []string{"/usr/lib/cyrus/bin/master", "saslpasswd2", "/usr/bin/python3", "bash"}
	if cfg.Ping != nil {
		need = append(need, "curl")
	}
	for _, cmd := range need {
		if _, err := exec.LookPath(cmd); err != nil {
			return nil, fmt.Errorf("%s is not installed: run scripts/peers/install.sh", cmd)
		}
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("cyrus runs as root (its master drops to the cyrus user): run as root")
	}
	users := cfg.Users
	if len(users) == 0 {
		users = DefaultCyrusUsers
	}
	c, _, err := launchCyrus(users, cfg)
	return c, err
}

// launchCyrus starts an instance, trying other ports when the ones chosen
// were taken meanwhile, and returns it with the script's output.
func launchCyrus(users []string, cfg CyrusConfig) (*Cyrus, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		c, out, err := startCyrus(users, cfg)
		if err == nil {
			return c, out, nil
		}
		lastErr = fmt.Errorf("%v\n%s", err, out)
		// A port taken between FreePort and the start: try other ports.
		if !strings.Contains(out, "already in use") && !strings.Contains(out, "did not listen") {
			break
		}
	}
	return nil, "", lastErr
}

func startCyrus(users []string, cfg CyrusConfig) (*Cyrus, string, error) {
	root := cfg.TempDir
	if root == "" {
		root = cyrusTempRoot()
	}
	dir, err := os.MkdirTemp(root, "notifyd-cyrus-")
	if err != nil {
		return nil, "", err
	}
	c, out, err := startCyrusIn(dir, users, cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
	}
	return c, out, err
}

func startCyrusIn(dir string, users []string, cfg CyrusConfig) (*Cyrus, string, error) {
	// The master runs as the cyrus user: let it in.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, "", err
	}
	c := &Cyrus{
		Dir:   dir,
		Users: append([]string(nil), users...),
	}
	var err error
	if c.imapPort, err = freePort(); err != nil {
		return nil, "", err
	}
	for c.httpPort == 0 || c.httpPort == c.imapPort {
		if c.httpPort, err = freePort(); err != nil {
			return nil, "", err
		}
	}
	c.BaseURL = "http://127.0.0.1:" + strconv.Itoa(c.httpPort)
	c.IMAPAddr = "127.0.0.1:" + strconv.Itoa(c.imapPort)
	var env []string
	if cfg.Ping != nil {
		c.pings = true
		// The script copies the settings into the instance (whose
		// directory must be empty at the first start).
		tmp, err := os.MkdirTemp("", "notifyd-ping-")
		if err != nil {
			return nil, "", err
		}
		defer os.RemoveAll(tmp)
		conf := filepath.Join(tmp, "notifyd-ping.conf")
		if err := os.WriteFile(conf, c.pingSettings(*cfg.Ping), 0o600); err != nil {
			return nil, "", err
		}
		env = append(env, "PING_CONF="+conf, "PING_GROUPS="+cfg.PingGroups)
	}
	out, err := c.script("start", strings.Join(users, " "), env...)
	if err != nil {
		_, _ = c.script("stop", "")
		return nil, out, err
	}
	c.running = true
	return c, out, nil
}

// Close stops the instance (if it runs) and removes its data.
func (c *Cyrus) Close() error {
	err := c.halt()
	if rerr := os.RemoveAll(c.Dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// halt stops the instance if it runs, keeping its data.
func (c *Cyrus) halt() error {
	c.mu.Lock()
	running := c.running
	c.running = false
	c.mu.Unlock()
	var err error
	if running {
		if out, serr := c.script("stop", ""); serr != nil {
			err = fmt.Errorf("stopping Cyrus: %v\n%s", serr, out)
		}
	}
	return err
}

// TempRoot is where Cyrus instances live unless CyrusConfig.TempDir says
// otherwise: $NOTIFYD_PEER_TMPDIR, else /dev/shm when it has room, else
// the system's temporary directory.
func TempRoot() string { return cyrusTempRoot() }

// cyrusTempRoot is where instances live: $NOTIFYD_PEER_TMPDIR, else
// /dev/shm when it has room (Cyrus fsyncs a lot: on tmpfs a start is 10
// times faster), else the system's temporary directory.
func cyrusTempRoot() string {
	if d := os.Getenv("NOTIFYD_PEER_TMPDIR"); d != "" {
		return d
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Bavail*uint64(st.Bsize) > 256<<20 {
		if f, err := os.MkdirTemp("/dev/shm", ".probe-"); err == nil {
			_ = os.Remove(f)
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

func (c *Cyrus) script(cmd, users string, env ...string) (string, error) {
	args := []string{Script("cyrus.sh"), cmd, c.Dir}
	if cmd == "start" {
		args = append(args, strconv.Itoa(c.imapPort), strconv.Itoa(c.httpPort))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	x := exec.CommandContext(ctx, "bash", args...)
	x.Env = os.Environ()
	if users != "" {
		x.Env = append(x.Env, "USERS="+users)
	}
	x.Env = append(x.Env, env...)
	out, err := x.CombinedOutput()
	return string(out), err
}

// Stop stops the instance, keeping its data and ports for Start (outage
// tests).
func (c *Cyrus) Stop(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return
	}
	out, err := c.script("stop", "")
	if err != nil {
		t.Fatalf("stopping Cyrus: %v\n%s", err, out)
	}
	c.running = false
}

// Start restarts an instance Stop stopped, on the same ports with the same
// data.
func (c *Cyrus) Start(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return
	}
	out, err := c.script("start", "")
	if err != nil {
		t.Fatalf("restarting Cyrus: %v\n%s", err, out)
	}
	c.running = true
}

// Password returns user's password.
func (c *Cyrus) Password(user string) string { return user + "pw" }

// PrincipalHref returns user's principal path, "/dav/principals/user/NAME/".
func (c *Cyrus) PrincipalHref(user string) string { return "/dav/principals/user/" + user + "/" }

// CalendarHome returns user's calendar home path, "/dav/calendars/user/NAME/".
func (c *Cyrus) CalendarHome(user string) string { return "/dav/calendars/user/" + user + "/" }

// NotificationCollection returns user's notification collection path,
// "/dav/notifications/user/NAME/".
func (c *Cyrus) NotificationCollection(user string) string {
	return "/dav/notifications/user/" + user + "/"
}

// Request sends method to path on the server as user (basic auth) and
// returns the status, headers and body. It follows no redirect (Cyrus
// redirects another user's calendars: see ServiceCalendar).
func (c *Cyrus) Request(t testing.TB, user, method, path, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return davRequest(t, c.BaseURL, user, c.Password(user), method, path, contentType, body, header...)
}

// Do is Request for a program that is not a test: it returns the error
// that would fail the test.
func (c *Cyrus) Do(user, method, path, contentType, body string, header ...string) (int, http.Header, []byte, error) {
	return davDo(c.BaseURL, user, c.Password(user), method, path, contentType, body, header...)
}

// Name is "cyrus".
func (c *Cyrus) Name() string { return "cyrus" }

// URL returns BaseURL.
func (c *Cyrus) URL() string { return c.BaseURL }

// ServiceAccount returns CyrusNotifier.
func (c *Cyrus) ServiceAccount() string { return CyrusNotifier }

// Share makes owner share their Default calendar with sharee (read-write or
// read-only): Cyrus then puts a CS:invite-notification in the sharee's
// notification collection. Only a mailto: sharee works with Cyrus (a
// principal URL is silently ignored).
func (c *Cyrus) Share(t testing.TB, owner, sharee string, readWrite bool) {
	t.Helper()
	if err := c.ShareCalendar(owner, sharee, readWrite); err != nil {
		t.Fatal(err)
	}
}

// ShareCalendar is Share for a program that is not a test: it returns
// what went wrong.
func (c *Cyrus) ShareCalendar(owner, sharee string, readWrite bool) error {
	access := "<D:read/>"
	if readWrite {
		access = "<D:read-write/>"
	}
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>mailto:` + sharee + `@localhost</D:href>` +
		`<D:share-access>` + access + `</D:share-access></D:sharee></D:share-resource>`
	path := c.CalendarHome(owner) + "Default/"
	status, _, resp, err := c.Do(owner, http.MethodPost, path, "application/davsharing+xml", body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s sharing %s with %s: %d %s", owner, path, sharee, status, resp)
	}
	return nil
}

// AcceptInvite makes sharee accept the invite notificationHref (a member of
// their notification collection): Cyrus creates the shared calendar in the
// sharee's home and puts a CS:invite-reply in the sharer's collection.
func (c *Cyrus) AcceptInvite(t testing.TB, sharee, notificationHref string) {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:invite-reply xmlns:D="DAV:"><D:invite-accepted/>` +
		`<D:create-in><D:href>` + c.CalendarHome(sharee) + `</D:href></D:create-in></D:invite-reply>`
	status, _, resp := c.Request(t, sharee, http.MethodPost, notificationHref, "application/davsharing+xml", body)
	if status/100 != 2 {
		t.Fatalf("%s accepting %s: %d %s", sharee, notificationHref, status, resp)
	}
}

// ListNotifications returns the hrefs (paths, sorted) of the resources in
// user's notification collection, read with the notifier account.
func (c *Cyrus) ListNotifications(t testing.TB, user string) []string {
	t.Helper()
	coll := c.NotificationCollection(user)
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>` +
		`<D:prop><D:getetag/></D:prop></D:sync-collection>`
	status, _, resp := c.Request(t, CyrusNotifier, "REPORT", coll, "application/xml; charset=utf-8", body)
	if status != http.StatusMultiStatus {
		t.Fatalf("listing %s: %d %s", coll, status, resp)
	}
	var ms struct {
		Responses []struct {
			Href   string `xml:"DAV: href"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: response"`
	}
	if err := xml.NewDecoder(bytes.NewReader(resp)).Decode(&ms); err != nil {
		t.Fatalf("listing %s: %v\n%s", coll, err, resp)
	}
	var hrefs []string
	for _, r := range ms.Responses {
		h := strings.TrimSpace(r.Href)
		if strings.TrimSuffix(h, "/") == strings.TrimSuffix(coll, "/") || strings.Contains(r.Status, " 404 ") {
			continue
		}
		hrefs = append(hrefs, h)
	}
	sort.Strings(hrefs)
	return hrefs
}

// LogHint is the advice to print when Cyrus misbehaves in a test.
const LogHint = "Cyrus logs only to syslog (no log file under its Dir)"
