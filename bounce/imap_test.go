package bounce

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// appendMessages puts msgs into user's INBOX on Cyrus (IMAP APPEND).
func appendMessages(t *testing.T, cy *peertest.Cyrus, user string, msgs ...[]byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", cy.IMAPAddr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
			if !strings.HasPrefix(line, "* ") {
				t.Fatalf("IMAP: %q, waiting for %q", line, prefix)
			}
		}
	}
	expect("* OK")
	fmt.Fprintf(conn, "a0 LOGIN %s %s\r\n", user, cy.Password(user))
	expect("a0 OK")
	for i, m := range msgs {
		m = []byte(strings.ReplaceAll(strings.ReplaceAll(string(m), "\r\n", "\n"), "\n", "\r\n"))
		fmt.Fprintf(conn, "a%d APPEND INBOX {%d}\r\n", i+1, len(m))
		expect("+")
		conn.Write(m)
		io.WriteString(conn, "\r\n")
		expect(fmt.Sprintf("a%d OK", i+1))
	}
}

// Reports dropped in a mailbox on Cyrus are read over IMAP: the reports
// reach the handler and are deleted, the auto-reply and the forged one
// are deleted without reaching it, and a report the handler cannot
// record stays for the next poll, which hands it over.
func TestPollMailboxOnCyrus(t *testing.T) {
	cy := peertest.StartCyrus(t, "bounces")
	forged := strings.Replace(string(readFixture(t, "rfc3464.eml")), "2f3c468ba4750cc5", "2f3c468ba4750cc6", -1)
	appendMessages(t, cy, "bounces", readFixture(t, "rfc3464.eml"), readFixture(t, "out-of-office.eml"),
		[]byte(forged), readFixture(t, "qmail.eml"))

	var got []Report
	handle := func(_ context.Context, r Report) error {
		if r.Recipient == "dino@example.com" && len(got) < 2 {
			got = append(got, Report{Recipient: "failed once"})
			return errors.New("database down")
		}
		got = append(got, r)
		return nil
	}
	opts := MailboxOptions{Addr: cy.IMAPAddr, Username: "bounces", Password: cy.Password("bounces"), VERP: testVERP(t),
		Handle: handle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := PollMailbox(context.Background(), opts)
	if err != nil || n != 1 {
		t.Fatalf("first poll: %d handled, %v; want 1", n, err)
	}
	if left := cy.IMAP(t, "bounces", "SELECT INBOX", "UID SEARCH ALL"); countSearch(left) != 1 {
		t.Fatalf("after the first poll the mailbox holds %v, want only the report not recorded", left)
	}
	n, err = PollMailbox(context.Background(), opts)
	if err != nil || n != 1 {
		t.Fatalf("second poll: %d handled, %v; want 1", n, err)
	}
	if left := cy.IMAP(t, "bounces", "SELECT INBOX", "UID SEARCH ALL"); countSearch(left) != 0 {
		t.Fatalf("after the second poll the mailbox holds %v, want nothing", left)
	}
	if len(got) != 3 || got[0].Recipient != "wilma@example.net" || got[0].Kind != Hard || got[0].DeliveryID != fixtureID ||
		got[1].Recipient != "failed once" || got[2].Recipient != "dino@example.com" || got[2].DeliveryID != fixtureID {
		t.Errorf("handled %+v", got)
	}
}

// countSearch counts the UIDs in "SEARCH …" answers.
func countSearch(untagged []string) int {
	n := 0
	for _, u := range untagged {
		if rest, ok := strings.CutPrefix(u, "SEARCH"); ok {
			n += len(strings.Fields(rest))
		}
	}
	return n
}

// Complaints dropped in the mailbox (a feedback loop registered to an
// address whose mail lands there) are read like bounces: each complaint
// reaches the handler with its delivery; the DMARC failure report and
// the unreadable report are deleted without reaching it.
func TestPollMailboxComplaintsOnCyrus(t *testing.T) {
	cy := peertest.StartCyrus(t, "fbl")
	appendMessages(t, cy, "fbl", readFixture(t, "yahoo-arf.eml"), readFixture(t, "dmarc-auth-failure.eml"),
		readFixture(t, "microsoft-jmrp.eml"), readFixture(t, "arf-malformed.eml"))
	var got []Report
	opts := MailboxOptions{Addr: cy.IMAPAddr, Username: "fbl", Password: cy.Password("fbl"), VERP: testVERP(t),
		Handle: func(_ context.Context, r Report) error { got = append(got, r); return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := PollMailbox(context.Background(), opts)
	if err != nil || n != 2 {
		t.Fatalf("poll: %d handled, %v; want 2", n, err)
	}
	if len(got) != 2 || got[0].UserAgent != "Yahoo!-Mail-Feedback/2.0" || got[1].UserAgent != "Hotmail FBL" {
		t.Fatalf("handled %+v", got)
	}
	for _, r := range got {
		if r.Kind != Complaint || r.DeliveryID != fixtureID {
			t.Errorf("report %+v, want a complaint about %s", r, fixtureID)
		}
	}
	if left := cy.IMAP(t, "fbl", "SELECT INBOX", "UID SEARCH ALL"); countSearch(left) != 0 {
		t.Fatalf("the mailbox holds %v, want nothing", left)
	}
}
