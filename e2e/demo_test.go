package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// make demo, as a newcomer runs it: the program prints the console's URL
// and a key; with them, the delivery log shows the email notifyd sent
// wilma for fred's sharing invitation, and the console signs in. Ctrl-C
// (SIGINT) then leaves no process of the demo running and removes its
// temporary directory.
func TestDemo(t *testing.T) {
	peertest.Need(t, "/usr/lib/cyrus/bin/master", "/usr/bin/python3", "curl", "openssl")
	if os.Geteuid() != 0 {
		t.Skip("PEER MISSING: the demo starts Cyrus, which runs as root")
	}
	demo := filepath.Join(t.TempDir(), "notifyd-demo")
	if out, err := exec.Command("go", "build", "-o", demo, "../cmd/notifyd-demo").CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, out)
	}
	cmd := exec.Command(demo, "-notifyd", binary, "-reminder-in", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &logBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	out := &logBuffer{}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})

	// The welcome: the lines the demo prints once everything runs.
	printed := map[string]string{}
	deadline := time.After(3 * time.Minute)
	for printed["Temporary directory"] == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the demo exited before its welcome: %v\n%s%s", <-exited, out, stderr)
			}
			if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
				printed[k] = strings.TrimSpace(v)
			}
		case <-deadline:
			t.Fatalf("no welcome from the demo after 3 minutes\n%s%s", out, stderr)
		}
	}
	consoleURL, key, dir := printed["Console"], printed["Sign in"], printed["Temporary directory"]
	base, ok := strings.CutSuffix(consoleURL, "/console/")
	if !ok || key == "" || !strings.HasPrefix(dir, "/") {
		t.Fatalf("console %q, key %q, directory %q in:\n%s", consoleURL, key, dir, out)
	}
	go func() { // the rest of the output, kept for failure messages
		for range lines {
		}
	}()

	// wilma's delivery, sent, found with the printed key.
	principal := "/dav/principals/user/wilma/"
	var sent map[string]any
	waitFor(t, time.Minute, "wilma's delivery sent", func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/deliveries?"+url.Values{"principal": {principal}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct{ Items []map[string]any }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&page) != nil {
			t.Fatalf("GET /v1/deliveries with the printed key: %d", resp.StatusCode)
		}
		for _, it := range page.Items {
			if it["status"] == "sent" && it["address"] == "wilma@example.org" {
				sent = it
			}
		}
		return sent != nil
	})
	if n, _ := sent["notification"].(map[string]any); n["type"] != "share-invite" {
		t.Errorf("wilma's delivery is of %v, want the share-invite", n["type"])
	}
	// The console signs in with the key and shows that delivery's page.
	page := consoleDeliveryPage(t, base, key, sent["id"].(string))
	if !strings.Contains(page, "wilma@example.org") {
		t.Errorf("the console's delivery page does not name wilma@example.org:\n%s", page)
	}
	// The printed Maildir holds the email as wilma got it.
	mails, _ := filepath.Glob(filepath.Join(dir, "smtp", "maildir", "new", "*"))
	if len(mails) == 0 || !strings.Contains(out.String(), filepath.Join(dir, "smtp", "maildir", "new")) {
		t.Errorf("no email in the printed Maildir (%d files)\n%s", len(mails), out)
	}

	procs := demoProcesses(t, dir)
	if len(procs) < 3 { // Cyrus's master and services, the sink, notifyd
		t.Fatalf("processes of the demo before Ctrl-C: %v", procs)
	}
	for _, want := range []string{"/usr/lib/cyrus/bin/master", "aiosmtpd", "notifyd serve"} {
		if !strings.Contains(strings.Join(procs, "\n"), want) {
			t.Errorf("no %s among the demo's processes: %v", want, procs)
		}
	}

	// Ctrl-C.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the demo exited with %v after SIGINT\n%s%s", err, out, stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the demo still runs a minute after SIGINT\n%s%s", out, stderr)
	}
	if procs := demoProcesses(t, dir); len(procs) != 0 {
		t.Errorf("still running after the demo stopped: %v", procs)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo's directory %s is still there: %v", dir, err)
	}
}

// consoleDeliveryPage signs in to the console with key (its sign-in form,
// with the form's CSRF token) and returns the page of delivery id.
func consoleDeliveryPage(t *testing.T, base, key, id string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/console/login"))
	if m == nil {
		t.Fatal("no CSRF token in the console's sign-in form")
	}
	resp, err := client.PostForm(base+"/console/login", url.Values{"key": {key}, "csrf": {html.UnescapeString(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/console/login" {
		t.Fatalf("signing in to the console with the printed key: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return get("/console/deliveries/" + id)
}

// demoProcesses returns "PID COMMAND LINE" of each running process whose
// command line names dir (the demo's directory holds every peer's files,
// so each process it started names it).
func demoProcesses(t *testing.T, dir string) []string {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var procs []string
	for _, f := range cmdlines {
		b, err := os.ReadFile(f) // a process gone meanwhile: an error, skipped
		if err != nil || !strings.Contains(string(b), dir) {
			continue
		}
		pid := filepath.Base(filepath.Dir(f))
		procs = append(procs, pid+" "+strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")))
	}
	return procs
}
