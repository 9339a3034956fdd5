package bounce

import (
	"errors"
	"strings"
	"testing"
)

const fixtureFBL = "fbl@bounces.example.org"

// complaintFixtures are the feedback reports under testdata that are
// complaints, and what each must give.
var complaintFixtures = []struct {
	file string
	want Report
}{
	// Yahoo's CFL: the delivery in the reported message's Return-Path
	// (and Original-Mail-From), the recipient given.
	{"yahoo-arf.eml", Report{Kind: Complaint, FeedbackType: "abuse", UserAgent: "Yahoo!-Mail-Feedback/2.0",
		Recipient: "wilma@yahoo.com", ReportingMTA: "arf.mail.yahoo.com", Format: "arf"}},
	// Microsoft's JMRP: the recipient redacted, no Return-Path in the
	// reported message: the delivery from Original-Mail-From.
	{"microsoft-jmrp.eml", Report{Kind: Complaint, FeedbackType: "abuse", UserAgent: "Hotmail FBL",
		ReportingMTA: "hotmail.com", Format: "arf"}},
	// Only the reported message's header (text/rfc822-headers), no
	// Original-Mail-From: the delivery from its Return-Path.
	{"arf-headers-only.eml", Report{Kind: Complaint, FeedbackType: "abuse", UserAgent: "ReturnPathFBL/2.0",
		Recipient: "betty@comcast.net", ReportingMTA: "comcastfbl.senderscore.net", Format: "arf"}},
}

// TestParseComplaints parses each complaint as the listener does (sent
// to the feedback address), as from a mailbox (no envelope recipient),
// and sent to the delivery's bounce address.
func TestParseComplaints(t *testing.T) {
	v := testVERP(t)
	for _, f := range complaintFixtures {
		for _, rcpt := range []string{fixtureFBL, "", fixtureAddr} {
			t.Run(f.file+"/rcpt="+rcpt, func(t *testing.T) {
				got, err := Parse(readFixture(t, f.file), rcpt, v)
				if err != nil {
					t.Fatal(err)
				}
				want := f.want
				want.DeliveryID = fixtureID
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

// Every feedback type of RFC 5965 but auth-failure is a complaint;
// not-spam is its own kind; auth-failure (DMARC, DKIM failure reports)
// and unknown types are no complaint.
func TestFeedbackTypes(t *testing.T) {
	v := testVERP(t)
	raw := string(readFixture(t, "yahoo-arf.eml"))
	for ft, want := range map[string]Kind{"abuse": Complaint, "fraud": Complaint, "virus": Complaint, "other": Complaint,
		"Abuse": Complaint, "not-spam": NotSpam, "auth-failure": "", "dmarc": "", "opt-out": ""} {
		r, err := Parse([]byte(strings.Replace(raw, "Feedback-Type: abuse", "Feedback-Type: "+ft, 1)), fixtureFBL, v)
		switch {
		case want == "" && !errors.Is(err, ErrNotBounce):
			t.Errorf("%s: %+v, %v; want ErrNotBounce", ft, r, err)
		case want != "" && (err != nil || r.Kind != want || r.FeedbackType != strings.ToLower(ft) || r.DeliveryID != fixtureID):
			t.Errorf("%s: %+v, %v; want kind %s", ft, r, err, want)
		}
	}
}

// A DMARC failure report about one of notifyd's messages is no
// complaint, whatever address it comes to.
func TestAuthFailureReportIsNoComplaint(t *testing.T) {
	v := testVERP(t)
	for _, rcpt := range []string{fixtureFBL, "", fixtureAddr} {
		r, err := Parse(readFixture(t, "dmarc-auth-failure.eml"), rcpt, v)
		if !errors.Is(err, ErrNotBounce) || !strings.Contains(err.Error(), "auth-failure") {
			t.Errorf("rcpt %q: %+v, %v; want ErrNotBounce saying auth-failure", rcpt, r, err)
		}
	}
}

// A complaint about a message whose bounce address is not one of this
// notifyd's (another system's mail) names no delivery; one whose MAC
// was altered is forged; one whose reported message is gone still
// counts by Original-Mail-From.
func TestComplaintDeliveryLookup(t *testing.T) {
	v := testVERP(t)
	raw := string(readFixture(t, "yahoo-arf.eml"))
	other := strings.ReplaceAll(raw, fixtureAddr, "bounce-1234@mailer.example.com")
	if _, err := Parse([]byte(other), fixtureFBL, v); !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "Return-Path") {
		t.Errorf("another system's message: %v, want ErrNoToken saying why", err)
	}
	forged := strings.ReplaceAll(raw, fixtureAddr, strings.Replace(fixtureAddr, "2f3c468ba4750cc5", "2f3c468ba4750cc6", 1))
	if _, err := Parse([]byte(forged), fixtureFBL, v); !errors.Is(err, ErrForged) {
		t.Errorf("altered bounce address: %v, want ErrForged", err)
	}
	// The reported message's Return-Path wins over where the report was
	// sent: it is the message complained about.
	otherVERP, _ := v.Address("0123456789abcdef0123456789abcdef")
	if r, err := Parse([]byte(raw), otherVERP, v); err != nil || r.DeliveryID != fixtureID {
		t.Errorf("sent to another bounce address: %+v, %v; want %s", r, err, fixtureID)
	}
	// Without the reported message, Original-Mail-From.
	noOriginal := raw[:strings.Index(raw, "------=_Part_4127_1204869451.1765095262000\nContent-Type: message/rfc822")] +
		"------=_Part_4127_1204869451.1765095262000--\n"
	if r, err := Parse([]byte(noOriginal), fixtureFBL, v); err != nil || r.DeliveryID != fixtureID {
		t.Errorf("no reported message: %+v, %v; want %s", r, err, fixtureID)
	}
}

func TestMalformedFeedbackReports(t *testing.T) {
	v := testVERP(t)
	if _, err := Parse(readFixture(t, "arf-malformed.eml"), fixtureFBL, v); err == nil || !strings.Contains(err.Error(), "no Feedback-Type") {
		t.Errorf("arf-malformed.eml: %v, want a malformed feedback report", err)
	}
	head := "From: fbl@isp.example\nTo: " + fixtureFBL + "\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n"
	for name, raw := range map[string]string{
		"no feedback part": head + "--b\nContent-Type: text/plain\n\nspam!\n--b--\n",
		"empty feedback":   head + "--b\nContent-Type: message/feedback-report\n\n\n--b--\n",
		"truncated":        head + "--b\nContent-Type: text/plain\n\nspam",
		"no boundary":      "From: x@y\nContent-Type: multipart/report; report-type=feedback-report\n\nx",
		"bad base64":       head + "--b\nContent-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n\n!!!\n--b--\n",
	} {
		if r, err := Parse([]byte(raw), fixtureFBL, v); err == nil || !strings.HasPrefix(err.Error(), "bounce: malformed") {
			t.Errorf("%s: %+v, %v; want a malformed-report error", name, r, err)
		}
	}
}

// A bounce report is still one: the message it returns is not read as
// a reported one.
func TestBounceOfAFeedbackAddressIsNoComplaint(t *testing.T) {
	r, err := Parse(readFixture(t, "rfc3464.eml"), "", testVERP(t))
	if err != nil || r.Kind != Hard || r.FeedbackType != "" {
		t.Errorf("%+v, %v", r, err)
	}
}
