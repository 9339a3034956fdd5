package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary messages (seeded with every fixture,
// bounces and feedback reports): it must return a report or an error,
// never panic, and a report must be consistent.
func FuzzParse(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: MAILER-DAEMON@x\nTo: " + fixtureAddr + "\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nAction: failed\n--b--\n"))
	f.Add([]byte("From: fbl@x\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nOriginal-Mail-From: " +
		fixtureAddr + "\n--b\nContent-Type: text/rfc822-headers\n\nReturn-Path: <" + fixtureAddr + ">\n--b--\n"))
	v := testVERP(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw, "", v)
		if err != nil {
			if errors.Is(err, ErrForged) || errors.Is(err, ErrNoToken) || errors.Is(err, ErrNotBounce) || strings.HasPrefix(err.Error(), "bounce: ") {
				return
			}
			t.Fatalf("unexpected error %v", err)
		}
		if r.DeliveryID == "" || len(r.Diagnostic) > 1000 || len(r.UserAgent) > maxUserAgent {
			t.Fatalf("inconsistent report %+v", r)
		}
		switch r.Kind {
		case Hard, Soft, Success:
			if r.FeedbackType != "" {
				t.Fatalf("a bounce with a feedback type: %+v", r)
			}
		case Complaint, NotSpam:
			if r.Format != "arf" || r.FeedbackType == "" || r.Action != "" {
				t.Fatalf("inconsistent complaint %+v", r)
			}
		default:
			t.Fatalf("report of kind %q: %+v", r.Kind, r)
		}
	})
}
