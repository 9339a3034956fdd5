package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultDatabaseDiskFull: notifyd's database lives on a small tmpfs of
// its own, which fills up in the middle of delivering a burst. Pings then
// get 503 with a Retry-After (or 202 while SQLite still has room in its
// log), nothing is half-written (each ping is recorded whole or not at
// all, the database stays sound), and once space returns, without a
// restart, the calendar server's retried pings are accepted and every
// notification is delivered once. Then the file system is made read-only
// while notifyd is stopped: it refuses to start, saying why, and starts
// again with everything kept once the file system is writable.
func TestFaultDatabaseDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("DISK FAULTS NOT TESTED: this test mounts a small tmpfs for notifyd's database, which needs root; " +
			"run the tests as root (make test does) to test a full and a read-only disk")
	}
	peertest.Need(t, "mount", "umount")
	sink := peertest.StartSMTP(t)
	var data string
	// Replies are held below while the disk fills: the SMTP timeout must
	// outlast that (else a message would be sent again).
	channels := strings.Replace(smtpChannel(t, sink), "timeout: 5s", "timeout: 5m", 1)
	r := newFaultRig(t, rigOptions{tag: "disk", users: 50, channels: channels, methods: emailTo,
		prepare: func(in *instance) {
			data = filepath.Join(in.dir, "data")
			mountTmpfs(t, data, "24m")
		}})
	r.start(emailReceiver(sink))
	for range 4 {
		r.produce(t, r.users)
	}
	// Deliveries reach their recipients and wait to hear so, so that the
	// disk fills between a message's arrival and its record.
	since := r.nd.logMark()
	sink.SetRules(t, peertest.Rules{HoldReplies: true})
	held := true
	r.ping(t, r.users)
	release := func() {
		if held {
			sink.SetRules(t, peertest.Rules{})
			held = false
		}
	}
	defer release()
	sink.WaitHeld(t, 1, 2*time.Minute)
	filler := fillDisk(t, data)
	t.Logf("the database's file system is full (%s)", filler)
	waved := make(chan struct{})
	go func() {
		defer close(waved)
		r.wave(t, r.users) // its ping is retried until accepted
	}()
	var pings []ghostPing
	refused := 0
	// Pinged again and again (each one a request to notifyd) until 5 are
	// refused; the deadline only bounds a broken run.
	for deadline := time.Now().Add(2 * time.Minute); refused < 5 && time.Now().Before(deadline); {
		p := r.pingGhosts(t, len(pings))
		pings = append(pings, p)
		if p.status == http.StatusServiceUnavailable {
			// Writes fail now: the held deliveries hear they were sent
			// and cannot record it.
			release()
			refused++
			if ra, err := strconv.Atoi(p.retryAfter); err != nil || ra <= 0 || p.problem != "urn:notifyd:problem:unavailable" {
				t.Errorf("503 with Retry-After %q and problem type %q; want a delay in seconds and urn:notifyd:problem:unavailable", p.retryAfter, p.problem)
			}
		} else if p.status != http.StatusAccepted {
			t.Errorf("ping with the disk full: %d %s; want 503 (or 202)", p.status, p.problem)
		}
	}
	t.Logf("with the disk full: %d pings, %d answered 503", len(pings), refused)
	if refused == 0 {
		t.Fatalf("no ping was refused with the disk full: the fault did not happen")
	}
	// The deliveries held meanwhile fail to record their outcome, and wait.
	release()
	r.nd.waitLog(t, 3*time.Minute, since, 1, "trying again to record what already happened")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Log("space is back")
	<-waved
	if t.Failed() {
		t.FailNow()
	}
	tl := r.settle(t, 2*time.Minute)
	r.check(t, tl, 0)
	r.checkWhole(t, pings)
	t.Logf("records of sent messages that waited for space: %d; syncs retried: %d",
		r.logLines("trying again to record what already happened"), r.logLines("Job errored; retrying", "sync_principal", "full"))

	t.Run("read-only", func(t *testing.T) {
		if err, _ := r.nd.stop(); err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
		r.nd.sqldb.Close()
		r.nd.sqldb = nil
		remount(t, data, "ro")
		out, err := runBriefly(r.nd)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !strings.Contains(out, "notifyd.db") || !strings.Contains(out, "read-only file system") {
			t.Errorf("notifyd on a read-only database directory: %v; want it to refuse to start, naming the database and saying the file system is read-only\n%s", err, tail(out, 10))
		}
		t.Logf("on a read-only file system notifyd says: %s", strings.TrimSpace(tail(out, 1)))
		remount(t, data, "rw")
		r.nd.start()
		r.wave(t, r.users)
		r.check(t, r.settle(t, time.Minute), 0)
	})
}

// ghostPing is a ping of three principals nobody else names, and what
// notifyd answered.
type ghostPing struct {
	hrefs                       []string
	status                      int
	retryAfter, problem, detail string
}

// pingGhosts pings three fresh principals (they exist nowhere: their syncs
// find nothing) and returns the answer.
func (r *faultRig) pingGhosts(t testing.TB, i int) ghostPing {
	p := ghostPing{}
	for _, s := range []string{"a", "b", "c"} {
		p.hrefs = append(p.hrefs, fmt.Sprintf("/dav/principals/user/ghost-%d-%s/", i, s))
	}
	body, _ := json.Marshal(map[string]any{"system": faultSystem, "token": pingToken, "hrefs": p.hrefs})
	resp, err := http.Post(r.nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var problem struct{ Type, Detail string }
	json.Unmarshal(b, &problem)
	p.status, p.retryAfter, p.problem, p.detail = resp.StatusCode, resp.Header.Get("Retry-After"), problem.Type, problem.Detail
	return p
}

// checkWhole checks that the database is sound and that each ping is
// recorded whole or not at all: every principal of an accepted ping, and
// all or none of a refused one's.
func (r *faultRig) checkWhole(t testing.TB, pings []ghostPing) {
	t.Helper()
	db := r.nd.db()
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity check: %q %v", integrity, err)
	}
	recordedRefused := 0
	for _, p := range pings {
		n := 0
		for _, h := range p.hrefs {
			var one int
			if db.QueryRow(`SELECT 1 FROM principal_state WHERE system = $1 AND principal = $2`, faultSystem, h).Scan(&one) == nil {
				n++
			}
		}
		switch {
		case p.status == http.StatusAccepted && n != len(p.hrefs):
			t.Errorf("ping of %v was accepted, but %d of its principals are recorded", p.hrefs, n)
		case n != 0 && n != len(p.hrefs):
			t.Errorf("ping of %v answered %d is half-written: %d of its principals are recorded", p.hrefs, p.status, n)
		case p.status != http.StatusAccepted && n > 0:
			recordedRefused++
		}
	}
	t.Logf("%d pings checked whole (%d refused ones were recorded all the same: written, but the sync to disk failed)", len(pings), recordedRefused)
}

// mountTmpfs mounts a tmpfs of size at dir (made if needed) until the
// test ends.
func mountTmpfs(t testing.TB, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0750", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("DISK FAULTS NOT TESTED: cannot mount a tmpfs at %s: %v %s", dir, err, out)
	}
	t.Cleanup(func() {
		// notifyd, just killed, may take a moment to let go of its files:
		// the kernel says nothing when it does (peertest.Poll).
		var out []byte
		var err error
		if !peertest.Poll(time.Minute, 50*time.Millisecond, func() bool {
			out, err = exec.Command("umount", dir).CombinedOutput()
			return err == nil
		}) {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
}

// remount makes the file system at dir read-only ("ro") or writable
// ("rw").
func remount(t testing.TB, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, mode, err, out)
	}
}

// fillDisk fills the file system of dir with a file and returns its path.
func fillDisk(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatalf("filling %s: %v", dir, err)
		}
	}
}

// runBriefly runs notifyd serve on in's configuration for at most a minute
// and returns its output and exit error (nil if it was still running).
func runBriefly(in *instance) (string, error) {
	cmd := exec.Command(binary, "serve", "-config", in.config)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		return out.String(), nil
	}
}
