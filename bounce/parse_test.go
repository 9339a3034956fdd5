package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	fixtureID   = "5f2b8c1e9a7d4036b1e2c3d4e5f60718"
	fixtureAddr = "bounces+5f2b8c1e9a7d4036b1e2c3d4e5f60718-2f3c468ba4750cc5@bounces.example.org"
)

// fixtures are the reports under testdata and what each must give.
var fixtures = []struct {
	file string
	want Report
	// diag is a part the diagnostic must contain.
	diag string
}{
	{"rfc3464.eml", Report{Kind: Hard, Recipient: "wilma@example.net", Action: ActionFailed, Status: "5.1.1",
		ReportingMTA: "mx1.example.net", Format: "rfc3464"}, "550 5.1.1 <wilma@example.net>: Recipient address rejected: User unknown"},
	{"postfix-delayed.eml", Report{Kind: Soft, Recipient: "barney@slow.example.com", Action: ActionDelayed, Status: "4.4.1",
		ReportingMTA: "relay.example.org", Format: "rfc3464"}, "Connection timed out"},
	{"gmail.eml", Report{Kind: Hard, Recipient: "nobody.here@gmail.com", Action: ActionFailed, Status: "5.1.1",
		ReportingMTA: "googlemail.com", Format: "rfc3464"}, "550-5.1.1 The email account that you tried to reach does not exist"},
	{"microsoft.eml", Report{Kind: Hard, Recipient: "pebbles@outlook.com", Action: ActionFailed, Status: "5.5.0",
		ReportingMTA: "AM0PR02MB1234.eurprd02.prod.outlook.com", Format: "rfc3464"}, "550 5.5.0 Requested action not taken: mailbox unavailable"},
	{"exchange-text.eml", Report{Kind: Hard, Recipient: "bambam@corp.example.com", Action: ActionFailed, Status: "5.1.10",
		ReportingMTA: "EX01.corp.example.com", Format: "microsoft"}, "550 5.1.10 RESOLVER.ADR.RecipientNotFound"},
	{"qmail.eml", Report{Kind: Hard, Recipient: "dino@example.com", Action: ActionFailed, Status: "5.1.1",
		ReportingMTA: "mail.example.com", Format: "qmail"}, "550 5.1.1 <dino@example.com>... No such user here"},
	{"exim.eml", Report{Kind: Hard, Recipient: "pebbles@example.co.uk", Action: ActionFailed, Status: "5.2.1",
		ReportingMTA: "smtp.example.co.uk", Format: "exim"}, "550 5.2.1 <pebbles@example.co.uk>: mailbox disabled"},
	{"exim-text.eml", Report{Kind: Hard, Recipient: "fred@oldhost.example", Action: ActionFailed, Status: "5.2.2",
		ReportingMTA: "mx.oldhost.example", Format: "exim"}, "552 5.2.2 <fred@oldhost.example>: Mailbox full"},
	{"postfix-text.eml", Report{Kind: Soft, Recipient: "betty@legacy.example.net", Action: ActionDelayed, Status: "4.2.0",
		ReportingMTA: "legacy.example.net", Format: "postfix"}, "Greylisted"},
	{"gmail-text.eml", Report{Kind: Hard, Recipient: "no.such.user@gmail.com", Action: ActionFailed, Status: "5.1.1",
		ReportingMTA: "googlemail.com", Format: "gmail"}, "550 5.1.1 The email account that you tried to reach does not exist"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseFixtures parses every fixture both as the listener does (the
// envelope recipient given) and as from a mailbox (found in headers).
func TestParseFixtures(t *testing.T) {
	v := testVERP(t)
	for _, f := range fixtures {
		for _, rcpt := range []string{fixtureAddr, ""} {
			t.Run(f.file+"/rcpt="+rcpt, func(t *testing.T) {
				got, err := Parse(readFixture(t, f.file), rcpt, v)
				if err != nil {
					t.Fatal(err)
				}
				want := f.want
				want.DeliveryID = fixtureID
				diag := got.Diagnostic
				got.Diagnostic = ""
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
				if !strings.Contains(diag, f.diag) {
					t.Errorf("diagnostic %q lacks %q", diag, f.diag)
				}
			})
		}
	}
}

func TestOutOfOfficeIsNoBounce(t *testing.T) {
	_, err := Parse(readFixture(t, "out-of-office.eml"), fixtureAddr, testVERP(t))
	if !errors.Is(err, ErrNotBounce) {
		t.Fatalf("out-of-office: %v, want ErrNotBounce", err)
	}
}

func TestForgedTokenRefused(t *testing.T) {
	raw := readFixture(t, "rfc3464.eml")
	forged := strings.Replace(fixtureAddr, "2f3c468ba4750cc5", "2f3c468ba4750cc6", 1)
	v := testVERP(t)
	if _, err := Parse(raw, forged, v); !errors.Is(err, ErrForged) {
		t.Errorf("forged envelope recipient: %v, want ErrForged", err)
	}
	if _, err := Parse([]byte(strings.ReplaceAll(string(raw), fixtureAddr, forged)), "", v); !errors.Is(err, ErrForged) {
		t.Errorf("forged To header: %v, want ErrForged", err)
	}
	other, _ := NewVERP("", "bounces.example.org", []byte("another key, also 32 bytes long!"))
	if _, err := Parse(raw, fixtureAddr, other); !errors.Is(err, ErrForged) {
		t.Errorf("another notifyd's key: %v, want ErrForged", err)
	}
	if _, err := Parse(raw, "postmaster@bounces.example.org", v); !errors.Is(err, ErrNoToken) {
		t.Errorf("no bounce address: %v, want ErrNoToken", err)
	}
}

func TestMalformedMessagesGiveErrors(t *testing.T) {
	v := testVERP(t)
	for name, raw := range map[string]string{
		"empty":             "",
		"no header end":     "From: x",
		"bad content type":  "From: MAILER-DAEMON@x\nContent-Type: multipart/report; boundary=\"\n\nx",
		"no boundary":       "From: MAILER-DAEMON@x\nContent-Type: multipart/report\n\nx",
		"truncated multi":   "From: MAILER-DAEMON@x\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/plain\n\nunfinished",
		"bad base64 status": "From: MAILER-DAEMON@x\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!!\n--b--\n",
		"deep nesting":      "From: MAILER-DAEMON@x\nContent-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\nContent-Type: multipart/mixed; boundary=b\n\n", 20),
	} {
		_, err := Parse([]byte(raw), fixtureAddr, v)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !errors.Is(err, ErrNotBounce) && !strings.Contains(err.Error(), "malformed message") {
			t.Errorf("%s: %v: want a malformed-message error or ErrNotBounce", name, err)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	if _, err := Parse(make([]byte, MaxReportBytes+1), fixtureAddr, testVERP(t)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized report: %v", err)
	}
}
