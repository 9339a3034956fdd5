package peertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The recipe that makes Cyrus ping notifyd on every change to a calendar
// (docs/reminders.md, "Cyrus pings notifyd"): contrib/cyrus/notifyd-ping
// run by Cyrus's notify daemon for each event.

const cyrusPingToken = "cyrus-ping-token-0123"

// pingRecorder is a stand-in for notifyd's ping endpoint: it answers 202
// and hands each request over as "METHOD PATH AUTHORIZATION CONTENT-TYPE
// BODY".
func pingRecorder(t *testing.T) (*httptest.Server, chan string) {
	pings := make(chan string, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		pings <- strings.Join([]string{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}, " ")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv, pings
}

// wantPing is the request notifyd-ping sends for user's principal.
func wantPing(user string) string {
	return `POST /v1/notifications Bearer ` + cyrusPingToken + ` application/json {"system":"cyrus","hrefs":["/dav/principals/user/` + user + `/"]}`
}

// pingProgram is contrib/cyrus/notifyd-ping.
func pingProgram() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "contrib", "cyrus", "notifyd-ping")
}

// TestCyrusPingProgram runs notifyd-ping as Cyrus's notify daemon does, on
// events as Cyrus 3.6 writes them: it pings the owner's principal for the
// mailboxes of calendars and notification collections, and for nothing
// else; the token is sent as a bearer token and never logged.
func TestCyrusPingProgram(t *testing.T) {
	t.Parallel()
	peertest.Need(t, "sh", "curl")
	srv, pings := pingRecorder(t)
	dir := t.TempDir()
	prog := filepath.Join(dir, "notifyd-ping")
	b, err := os.ReadFile(pingProgram())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "ping.log")
	settings := func(s string) {
		t.Helper()
		if err := os.WriteFile(prog+".conf", []byte(s+"log="+logFile+"\nwait=1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := "url=" + srv.URL + "/v1/notifications\nsystem=cyrus\ntoken=" + cyrusPingToken + "\n"
	// run feeds one event to the program as Cyrus does (its arguments
	// and the line on stdin) and returns the pings it sent.
	run := func(event string) []string {
		t.Helper()
		cmd := exec.Command(prog, "-c", "EVENT", "-p", "", "-u", "", "-m", "", "-f")
		cmd.Stdin = strings.NewReader(event + "\n")
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("notifyd-ping: %v, output %q", err, out)
		}
		var got []string
		for {
			select {
			case p := <-pings:
				got = append(got, p)
			default:
				return got // wait=1: it returned after its ping, if any
			}
		}
	}
	const acl = `,"pid":15012,"user":"","vnd.cmu.mbtype":"c","serverFQDN":"localhost","vnd.cmu.mailboxACL":"fred\tlrswipkxtecdan9\tanyone\t9\t"}`
	modseq := func(mailbox string) string {
		return `{"event":"MailboxModseq","timestamp":"2026-12-06T14:26:16.384Z","mailboxID":"recq2mo5wq0jw5ae9hd4ox69","uri":"imap://localhost/` +
			mailbox + `;UIDVALIDITY=1796567166"` + acl
	}
	settings(good)
	for _, c := range []struct{ name, event, user string }{
		{"a calendar changed", modseq("user/fred/%23calendars/Default"), "fred"},
		{"a calendar object stored", `{"event":"MessageNew","timestamp":"2026-12-06T14:26:16.382Z","mailboxID":"recq2mo5wq0jw5ae9hd4ox69",` +
			`"uri":"imap://localhost/user/fred/%23calendars/Default;UIDVALIDITY=1796567166/;UID=1","pid":15012,"user":"wilma"}`, "fred"},
		{"a calendar deleted", `{"event":"MailboxDelete","timestamp":"2026-12-06T14:26:39.494Z","mailboxID":"1n64i20f0h79l8eklpbe9u4r",` +
			`"uri":"imap://localhost/user/fred/%23calendars/work;UIDVALIDITY=1796567178"` + acl, "fred"},
		{"the calendar home", modseq("user/fred/%23calendars"), "fred"},
		{"a notification collection", modseq("user/wilma/%23notifications"), "wilma"},
		{"a user name with a dot", modseq("user/fred.smith/%23calendars/Default"), "fred.smith"},
		{"the dot hierarchy separator", modseq("user.fred.%23calendars.Default"), "fred"},
		{"an INBOX", modseq("user/fred"), ""},
		{"a mail folder", modseq("user/fred/Sent"), ""},
		{"a mail folder named like calendars", modseq("user/fred/%23calendarsX"), ""},
		{"a mail folder below one", modseq("user/fred/Archive/%23calendars"), ""},
		{"an address book", modseq("user/fred/%23addressbooks/Default"), ""},
		{"a shared mailbox", modseq("shared/%23calendars/Default"), ""},
		{"a percent-encoded user name", modseq("user/j%C3%BCrgen/%23calendars/Default"), ""},
		{"a mail moved out of a calendar", `{"event":"vnd.cmu.MessageMove","oldMailboxID":"imap://localhost/user/fred/%23calendars/Default;UIDVALIDITY=1",` +
			`"uri":"imap://localhost/user/fred;UIDVALIDITY=1/;UID=3","pid":1}`, ""},
		{"a login", `{"event":"Login","timestamp":"2026-12-06T14:26:16.384Z","uri":"imap://localhost","user":"fred"}`, ""},
		{"not JSON", `user/fred/%23calendars/Default`, ""},
		{"nothing", ``, ""},
	} {
		var want []string
		if c.user != "" {
			want = []string{wantPing(c.user)}
		}
		if got := run(c.event); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: pings %q, want %q", c.name, got, want)
		}
	}

	// Misconfigured or refused: no ping, or a failed one, logged.
	for _, c := range []struct{ name, settings, logged string }{
		{"no token", "url=" + srv.URL + "/v1/notifications\nsystem=cyrus\n", "token= in"},
		{"a token with a quote", good + "token=ab\"cdefgh\n", "token= in"},
		{"no url", "system=cyrus\ntoken=" + cyrusPingToken + "\n", "no url="},
		{"a system name to escape", good + "system=a\"b\n", "system= in"},
		{"notifyd unreachable", "url=http://127.0.0.1:1/v1/notifications\nsystem=cyrus\ntoken=" + cyrusPingToken + "\n", "failed"},
	} {
		settings(c.settings)
		before, _ := os.ReadFile(logFile)
		if got := run(modseq("user/fred/%23calendars/Default")); len(got) > 0 {
			t.Errorf("%s: pings %q, want none", c.name, got)
		}
		after, _ := os.ReadFile(logFile)
		if line := string(after[len(before):]); !strings.Contains(line, c.logged) {
			t.Errorf("%s: logged %q, want a line with %q", c.name, line, c.logged)
		}
	}
	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer refused.Close()
	settings("url=" + refused.URL + "/v1/notifications\nsystem=cyrus\ntoken=" + cyrusPingToken + "\n")
	run(modseq("user/fred/%23calendars/Default"))
	settings(good)
	run(modseq("user/fred/%23calendars/Default"))
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "failed: 401") {
		t.Errorf("a ping answered 401 is not logged as failed:\n%s", log)
	}
	if !strings.Contains(string(log), "MailboxModseq user/fred/%23calendars/Default /dav/principals/user/fred/ 202 ") {
		t.Errorf("a ping sent is not logged with its event, mailbox, principal and status:\n%s", log)
	}
	if strings.Contains(string(log), cyrusPingToken) {
		t.Errorf("the token is in the log:\n%s", log)
	}
}

// TestCyrusPingsOnChange proves the recipe on a real Cyrus 3.6, with each
// choice of event groups. With "mailbox" (the recipe's), every change to
// a user's calendars, by the owner or by a sharee, pings the owner's
// principal, and a sharing invitation pings the sharee (their
// notification collection). With "message", lighter on a mail server,
// the same except a calendar made or deleted, which pings nobody (left to
// polling). A mail pings nobody.
func TestCyrusPingsOnChange(t *testing.T) {
	t.Parallel()
	for _, groups := range []string{"mailbox", "message"} {
		t.Run(groups, func(t *testing.T) {
			t.Parallel()
			cyrusPingsOnChange(t, groups)
		})
	}
}

func cyrusPingsOnChange(t *testing.T, groups string) {
	srv, pings := pingRecorder(t)
	c := peertest.StartCyrusWith(t, peertest.CyrusConfig{
		Users:      []string{"fred", "wilma", "carol"},
		Ping:       &peertest.CyrusPing{URL: srv.URL + "/v1/notifications", System: "cyrus", Token: cyrusPingToken, Wait: true},
		PingGroups: groups,
	})
	// A barrier: a new user zN (added to the SASL database now) stores
	// an event, which in either group makes events that ping zN, whom
	// nothing else pings. With wait=1, Cyrus's notify daemon runs the
	// events one at a time, in order, so the pings received before zN's
	// first are those of the changes made before the barrier (zN's others
	// come later, and are not counted).
	barriers := 0
	pinged := func(what string) map[string]int {
		t.Helper()
		barriers++
		z := fmt.Sprintf("z%d", barriers)
		addCyrusUser(t, c, z)
		peertest.PutCalendarObject(t, c, z, c.CalendarHome(z)+"Default/barrier.ics", event("barrier", "Barrier", "20300107T090000Z"))
		got := map[string]int{}
		deadline := time.After(30 * time.Second)
		for {
			select {
			case p := <-pings:
				if p == wantPing(z) {
					return got
				}
				_, user, _ := strings.Cut(p, `"hrefs":["/dav/principals/user/`)
				user, _, _ = strings.Cut(user, "/")
				if p != wantPing(user) {
					t.Fatalf("after %s, a ping %q; want one like %q", what, p, wantPing("fred"))
				}
				got[user]++
			case <-deadline:
				t.Fatalf("the barrier after %s did not ping within 30 s; pings so far %v\n%s", what, got, c.PingLog(t))
			}
		}
	}
	pinged("the start") // what setting the users up pinged
	// expect checks who the changes since the last barrier pinged among
	// the test's users (not counted: the service account, whose own DAV
	// home, made on its first request, pings it, and the barriers), by
	// group.
	expect := func(what, mailbox, message string) {
		t.Helper()
		want := map[string]string{"mailbox": mailbox, "message": message}[groups]
		got := pinged(what)
		var users []string
		for u := range got {
			if u == "fred" || u == "wilma" || u == "carol" {
				users = append(users, u)
			}
		}
		sort.Strings(users)
		if strings.Join(users, ",") != want {
			t.Errorf("%s pinged %v, want %q", what, got, want)
		} else {
			t.Logf("%s: pings %v", what, got)
		}
	}

	def := c.CalendarHome("fred") + "Default/"
	peertest.PutCalendarObject(t, c, "fred", def+"standup.ics", event("standup", "Standup", "20300107T090000Z"))
	expect("an event PUT", "fred", "fred")
	peertest.PutCalendarObject(t, c, "fred", def+"standup.ics", event("standup", "Standup moved", "20300107T100000Z"))
	expect("an event changed", "fred", "fred")
	peertest.DeleteCalendarObject(t, c, "fred", def+"standup.ics")
	expect("an event deleted", "fred", "fred")
	work := peertest.MakeCalendar(t, c, "fred", "work")
	expect("a MKCALENDAR", "fred", "")
	peertest.PutCalendarObject(t, c, "fred", work+"rent.ics", task("rent", "Pay the rent", "20300107T090000Z"))
	expect("a task PUT", "fred", "fred")
	if status, _, body := c.Request(t, "fred", http.MethodDelete, work, "", ""); status/100 != 2 {
		t.Fatalf("deleting %s: %d %s", work, status, body)
	}
	expect("a calendar deleted", "fred", "")

	c.Share(t, "fred", "wilma", true)
	invites := c.ListNotifications(t, "wilma")
	if len(invites) != 1 {
		t.Fatalf("wilma's notifications: %v, want the invitation", invites)
	}
	expect("a share (wilma's invitation)", "fred,wilma", "wilma")
	c.AcceptInvite(t, "wilma", invites[0])
	expect("an invitation accepted (the reply in fred's notifications)", "fred", "fred")
	shared := c.SharedCalendarPath("wilma", "fred", "Default")
	peertest.PutCalendarObject(t, c, "wilma", shared+"lunch.ics", event("lunch", "Lunch", "20300108T120000Z"))
	expect("a sharee's PUT (fred owns the calendar)", "fred", "fred")

	mail := "Subject: hi\r\n\r\nhello\r\n"
	c.IMAP(t, "carol", fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(mail), mail))
	expect("a mail", "", "")
}

// addCyrusUser adds user to c (password user + "pw"), as
// scripts/peers/cyrus.sh does for its users: in the SASL database, an
// IMAP CREATE of user/NAME and a first request to the DAV home, which
// makes it.
func addCyrusUser(t *testing.T, c *peertest.Cyrus, user string) {
	t.Helper()
	cmd := exec.Command("saslpasswd2", "-p", "-c", "-f", filepath.Join(c.Dir, "sasldb2"), "-u", "localhost", user)
	cmd.Stdin = strings.NewReader(c.Password(user))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2 %s: %v %s", user, err, out)
	}
	c.IMAP(t, peertest.CyrusAdmin, `CREATE "user/`+user+`"`)
	status, _, body := c.Request(t, user, "PROPFIND", c.CalendarHome(user), "application/xml; charset=utf-8",
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`, "Depth", "0")
	if status != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s as %s: %d %s", c.CalendarHome(user), user, status, body)
	}
}
