package peertest

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// CyrusConfig configures StartCyrusWith.
type CyrusConfig struct {
	// Users are the users to create besides admin and notifier
	// (DefaultCyrusUsers when empty).
	Users []string
	// Ping, when not nil, sets up the recipe that makes Cyrus ping
	// notifyd on every change to a calendar or a notification collection
	// (contrib/cyrus/notifyd-ping; PING_CONF of scripts/peers/cyrus.sh),
	// sending the pings where it says. Its URL may be left empty and set
	// later with SetPing.
	Ping *CyrusPing
	// PingGroups are the event groups Cyrus notifies with Ping
	// (event_groups; empty: "mailbox").
	PingGroups string
	// TempDir is the directory the instance's directory is made in
	// (empty: $NOTIFYD_PEER_TMPDIR, else /dev/shm when it has room, else
	// the system's temporary directory). The cyrus user must be able to
	// traverse it and every directory above it.
	TempDir string
}

// CyrusPing says where the notifyd-ping recipe sends its pings.
type CyrusPing struct {
	// URL is notifyd's ping endpoint,
	// "http://127.0.0.1:PORT/v1/notifications" (empty: none yet).
	URL string
	// System is notifyd's name of the Cyrus server.
	System string
	// Token is one of the system's ping tokens.
	Token string
	// Wait makes each ping wait for the previous one (wait=1): pings then
	// arrive in the order of the changes, which tests can count on. The
	// recipe's default sends them in the background.
	Wait bool
}

// PingProgram is the path of the notifyd-ping program of an instance
// started with CyrusConfig.Ping (a copy of contrib/cyrus/notifyd-ping),
// whose settings are in PingProgram + ".conf".
func (c *Cyrus) PingProgram() string { return filepath.Join(c.Dir, "notifyd-ping") }

// pingLog is the log the notifyd-ping recipe writes: a line a ping (with
// its HTTP status and duration) and a line a failure.
func (c *Cyrus) pingLog() string { return filepath.Join(c.Dir, "notifyd-ping.log") }

// pingSettings is the content of notifyd-ping.conf for p.
func (c *Cyrus) pingSettings(p CyrusPing) []byte {
	s := fmt.Sprintf("url=%s\nsystem=%s\ntoken=%s\ntimeout=5\nlog=%s\n", p.URL, p.System, p.Token, c.pingLog())
	if p.Wait {
		s += "wait=1\n"
	}
	return []byte(s)
}

// SetPing points the notifyd-ping recipe of an instance started with
// CyrusConfig.Ping at p, from the next change on. The settings file is
// replaced whole (the program reads it for each change), owned by the
// cyrus user with mode 0600.
func (c *Cyrus) SetPing(t testing.TB, p CyrusPing) {
	t.Helper()
	if !c.pings {
		t.Fatal("SetPing: this Cyrus was started without CyrusConfig.Ping")
	}
	u, err := user.Lookup("cyrus")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	conf := c.PingProgram() + ".conf"
	tmp := conf + ".new"
	if err := os.WriteFile(tmp, c.pingSettings(p), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, conf); err != nil {
		t.Fatal(err)
	}
}

// PingLog returns what the notifyd-ping recipe logged so far: a line a
// ping sent ("TIME EVENT MAILBOX PRINCIPAL STATUS DURATION") and a line a
// failure.
func (c *Cyrus) PingLog(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(c.pingLog())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
