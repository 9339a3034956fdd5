package email

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
)

// SMTPError carries the server's reply for the delivery log. Errors
// returned by [Sender.Send] wrap one whenever the server replied with an
// error; find it with errors.As.
type SMTPError struct {
	// Code is the reply code, e.g. 451 or 550.
	Code int
	// Enhanced is the RFC 3463 enhanced status code ("5.1.1"), "" when the
	// reply had none.
	Enhanced string
	// Message is the reply text without codes; the lines of a multi-line
	// reply are joined with spaces.
	Message string
	// Temporary reports whether a later attempt may succeed: true for 4xx
	// replies, and for any refusal while the session is set up (greeting,
	// EHLO, STARTTLS, AUTH), which concerns the server or notifyd's
	// configuration rather than the message; false for 5xx replies to a
	// message's MAIL FROM, RCPT TO or DATA.
	Temporary bool

	// command is the SMTP command (or session step) the reply answered.
	command string
}

// Error returns e.g. "SMTP RCPT TO: 550 5.1.1 user unknown".
func (e *SMTPError) Error() string {
	var b strings.Builder
	b.WriteString("SMTP ")
	if e.command != "" {
		b.WriteString(e.command)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.Code))
	if e.Enhanced != "" {
		b.WriteByte(' ')
		b.WriteString(e.Enhanced)
	}
	if e.Message != "" {
		b.WriteByte(' ')
		b.WriteString(e.Message)
	}
	return b.String()
}

// enhancedRE matches an RFC 3463 enhanced status code at the start of a
// reply line.
var enhancedRE = regexp.MustCompile(`^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)`)

// replyError converts a server reply error into an *SMTPError for
// command; other errors give nil.
func replyError(command string, err error) *SMTPError {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return nil
	}
	e := &SMTPError{Code: tp.Code, Temporary: tp.Code/100 == 4, command: command}
	lines := strings.Split(tp.Msg, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if m := enhancedRE.FindStringSubmatch(l); m != nil {
			if e.Enhanced == "" {
				e.Enhanced = m[1]
			}
			l = l[len(m[0]):]
		}
		lines[i] = l
	}
	e.Message = strings.TrimSpace(strings.Join(lines, " "))
	return e
}

// connError is a failure to reach the server or keep talking to it:
// always temporary.
type connError struct {
	what string
	err  error
}

func (e *connError) Error() string { return e.what + ": " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// maybeSentError is a failure after the message's data was sent (the
// connection was lost or timed out before the server's reply): the server
// may have the message, so it must not go to another relay in the same
// attempt. Temporary: a retry sends it again under the same Message-ID.
type maybeSentError struct{ err error }

func (e *maybeSentError) Error() string { return e.err.Error() }
func (e *maybeSentError) Unwrap() error { return e.err }

// invalidError is a message that cannot be sent as it is: never
// temporary.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// IsTemporary reports whether a later attempt may deliver what err failed
// to: SMTP 4xx, connection/dial/timeout errors → true; 5xx → false. A
// refusal while the session is set up (greeting, EHLO, STARTTLS, AUTH) is
// temporary whatever its code (see [SMTPError.Temporary]), and so is a
// DKIM signing failure (the message is kept for a retry); a message that
// is invalid (bad recipient, header injection) is not.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SMTPError
	if errors.As(err, &se) {
		return se.Temporary
	}
	var ie *invalidError
	if errors.As(err, &ie) {
		return false
	}
	var sg *signError
	if errors.As(err, &sg) {
		return true
	}
	var ce *connError
	if errors.As(err, &ce) {
		return true
	}
	var cl *coolingError
	if errors.As(err, &cl) {
		return true
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code/100 == 4
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
