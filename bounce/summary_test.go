package bounce

import (
	"strings"
	"testing"
)

// A dropped message is named in the log by its sender and subject,
// decoded and cut short; a message without a header names nothing.
func TestSummary(t *testing.T) {
	for _, c := range []struct {
		raw, from, subject string
	}{
		{"From: Yahoo Feedback <cfl@yahoo-inc.com>\r\nSubject: =?UTF-8?Q?Confirm_your_feedback_loop_=E2=9C=94?=\r\n\r\nClick here.\r\n",
			"Yahoo Feedback <cfl@yahoo-inc.com>", "Confirm your feedback loop ✔"},
		{"From: a@example.org\nSubject: folded\n  subject\n\nbody\n", "a@example.org", "folded subject"},
		{"Subject: " + strings.Repeat("x", 300) + "\r\n\r\n", "", strings.Repeat("x", 200) + "…"},
		{"no header at all", "", ""},
	} {
		from, subject := Summary([]byte(c.raw))
		if from != c.from || subject != c.subject {
			t.Errorf("Summary(%.40q) = %q, %q; want %q, %q", c.raw, from, subject, c.from, c.subject)
		}
	}
}
