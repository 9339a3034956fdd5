package bounce

import (
	"net/mail"
	"regexp"
	"strings"
)

// Plain-text reports: the formats MTAs write when they send no
// delivery-status part.
var (
	qmailHello   = regexp.MustCompile(`(?m)^Hi\. This is the qmail-send program at ([^\s]+?)\.?$`)
	postfixHello = regexp.MustCompile(`(?m)^This is the mail system at host ([^\s]+?)\.?$`)
	msGenerating = regexp.MustCompile(`(?m)^Generating server: *([^\s]+)`)
	msRemote     = regexp.MustCompile(`Remote Server returned '([^']*)'`)
	msHash       = regexp.MustCompile(`(?m)^#([45][0-9][0-9] [245]\.[0-9]{1,3}\.[0-9]{1,3} .*?)(?: *##.*)?$`)
	angleAddr    = regexp.MustCompile(`(?m)^<([^<>\s@]+@[^<>\s]+)>:`)
	bareAddr     = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	gmailTo      = regexp.MustCompile(`(?:wasn't|was not|couldn't be|could not be) delivered to ([^\s]+@[^\s]+?)[ ,.]`)
	smtpLine     = regexp.MustCompile(`(?m)^[ \t]*[45][0-9][0-9][ -].*$`)
	daemonFrom   = regexp.MustCompile(`(?i)mailer-daemon|postmaster|mail delivery (sub)?system|mail ?delivery|microsoftexchange`)
)

// parseText recognises a plain-text bounce; ErrNotBounce for anything
// else. Only a message from a mail system (MAILER-DAEMON, postmaster,
// "Mail Delivery System", or with X-Failed-Recipients) can be one, which
// keeps auto-replies that quote a bounce out.
func parseText(h mail.Header, text string) (Report, error) {
	failedRcpt := strings.TrimSpace(h.Get("X-Failed-Recipients"))
	if failedRcpt == "" && !daemonFrom.MatchString(h.Get("From")) {
		return Report{}, ErrNotBounce
	}
	r := Report{Recipient: firstAddr(failedRcpt)}
	delayed := false
	switch {
	case qmailHello.MatchString(text):
		r.Format, r.ReportingMTA = "qmail", qmailHello.FindStringSubmatch(text)[1]
		r.Recipient = orFirst(r.Recipient, angle(text))
		r.Diagnostic = qmailDiagnostic(text)
	case postfixHello.MatchString(text):
		r.Format, r.ReportingMTA = "postfix", postfixHello.FindStringSubmatch(text)[1]
		delayed = strings.Contains(text, "THIS IS A WARNING ONLY")
		r.Recipient = orFirst(r.Recipient, angle(text))
		r.Diagnostic = paragraphAfter(text, "<"+r.Recipient+">:")
	case strings.Contains(text, "created automatically by mail delivery software"):
		r.Format = "exim"
		delayed = strings.Contains(text, "has not yet been delivered")
		r.Recipient = orFirst(r.Recipient, firstAddr(paragraphAfter(text, "failed:")))
		r.Diagnostic = eximDiagnostic(text)
		r.ReportingMTA = receivedBy(h)
	case strings.Contains(text, "Delivery has failed to these recipients or groups") ||
		strings.Contains(text, "Delivery is delayed to these recipients or groups"):
		r.Format = "microsoft"
		delayed = strings.Contains(text, "Delivery is delayed")
		if m := msGenerating.FindStringSubmatch(text); m != nil {
			r.ReportingMTA = m[1]
		}
		r.Recipient = orFirst(r.Recipient, firstAddr(paragraphAfter(text, "recipients or groups:")))
		if m := msRemote.FindStringSubmatch(text); m != nil {
			r.Diagnostic = m[1]
		} else if m := msHash.FindStringSubmatch(text); m != nil {
			r.Diagnostic = m[1]
		}
	case strings.Contains(text, "The response from the remote server was:") || strings.Contains(text, "The response was:"):
		r.Format = "gmail"
		delayed = strings.Contains(text, "temporary problem") || strings.Contains(text, "will retry")
		if m := gmailTo.FindStringSubmatch(text); m != nil {
			r.Recipient = orFirst(r.Recipient, m[1])
		}
		r.Diagnostic = paragraphAfter(text, "The response from the remote server was:")
		if r.Diagnostic == "" {
			r.Diagnostic = paragraphAfter(text, "The response was:")
		}
		if from, err := mail.ParseAddress(h.Get("From")); err == nil {
			r.ReportingMTA = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
		}
	default:
		// Another mail system: its subject must say so.
		subject := strings.ToLower(h.Get("Subject"))
		if !containsAny(subject, "undeliver", "delivery status notification", "delivery failure", "delivery failed",
			"returned mail", "failure notice", "could not be delivered", "delivery has failed", "non-delivery") {
			return Report{}, ErrNotBounce
		}
		r.Format = "text"
		r.Recipient = orFirst(r.Recipient, orFirst(angle(text), firstAddr(text)))
		r.Diagnostic = strings.TrimSpace(smtpLine.FindString(text))
	}
	if r.Diagnostic == "" {
		r.Diagnostic = strings.TrimSpace(smtpLine.FindString(text))
	}
	r.Diagnostic = strings.Join(strings.Fields(r.Diagnostic), " ")
	r.Status = statusIn(r.Diagnostic)
	if r.Status == "" {
		r.Status = statusIn(text)
	}
	if delayed && (r.Status == "" || r.Status[0] != '4') {
		r.Status = ""
	}
	r.Action = ActionFailed
	if delayed || strings.HasPrefix(r.Status, "4") {
		r.Action = ActionDelayed
	}
	return r, nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func orFirst(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// angle is the first "<addr>:" that starts a line (qmail, Postfix).
func angle(text string) string {
	if m := angleAddr.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func firstAddr(s string) string {
	return strings.TrimRight(bareAddr.FindString(s), ".")
}

// paragraphAfter is the text after marker up to the next blank line
// (the marker's own line's rest included), on one line.
func paragraphAfter(text, marker string) string {
	i := strings.Index(text, marker)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(text[i+len(marker):], " \t")
	rest = strings.TrimLeft(rest, "\n")
	if end := strings.Index(rest, "\n\n"); end >= 0 {
		rest = rest[:end]
	}
	return strings.Join(strings.Fields(rest), " ")
}

// qmailDiagnostic is "Remote host said: …", else the paragraph after
// the recipient.
func qmailDiagnostic(text string) string {
	if _, after, ok := strings.Cut(text, "Remote host said: "); ok {
		line, _, _ := strings.Cut(after, "\n")
		return line
	}
	if a := angle(text); a != "" {
		return paragraphAfter(text, "<"+a+">:")
	}
	return ""
}

// eximDiagnostic is the remote server's reply Exim quotes after "SMTP
// error from remote mail server after …:", else the explanation under
// the failed address.
func eximDiagnostic(text string) string {
	i := strings.Index(text, "SMTP error from remote mail server")
	if i < 0 {
		return strings.TrimSpace(smtpLine.FindString(text))
	}
	_, after, _ := strings.Cut(text[i:], ":\n")
	if end := strings.Index(after, "\n\n"); end >= 0 {
		after = after[:end]
	}
	return strings.Join(strings.Fields(after), " ")
}

// receivedBy is the host that wrote the message, from its newest
// Received header ("from … by HOST …").
func receivedBy(h mail.Header) string {
	for _, rcv := range h["Received"] {
		f := strings.Fields(rcv)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "by" {
				return strings.TrimSuffix(f[i+1], ";")
			}
		}
	}
	return ""
}
