package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/notifyd/notifyd/delivery"
)

// Twilio error codes notifyd treats specially
// (https://www.twilio.com/docs/api/errors).
const (
	// CodeAuthentication is Twilio's "Authenticate" error (HTTP 401): the
	// account SID or auth token is wrong.
	CodeAuthentication = 20003
	// CodeTooManyRequests is Twilio's rate limit (HTTP 429).
	CodeTooManyRequests = 20429
	// CodeInvalidTo is "The 'To' number is not a valid phone number".
	CodeInvalidTo = 21211
	// CodeUnsubscribed is "Attempt to send to unsubscribed recipient": the
	// recipient replied STOP.
	CodeUnsubscribed = 21610
	// CodeNotMobile is "The 'To' phone number is not a valid mobile
	// number".
	CodeNotMobile = 21614
)

// APIError is a refusal by Twilio (or by what answers at the configured
// base URL), as Send reports it: errors returned by Send wrap one
// whenever the API answered with an HTTP error; find it with errors.As.
type APIError struct {
	// Status is the HTTP status of the reply.
	Status int
	// Code is Twilio's error code (21211, 21610, 20429…); 0 when the reply
	// had none (a proxy's error page, a mock's validation problem).
	Code int
	// Message is Twilio's message, or what the reply's body said when it
	// was not a Twilio error.
	Message string
	// MoreInfo is the link to Twilio's page about the error, when given.
	MoreInfo string
	// RetryAfter is the delay the reply's Retry-After header asked for (0:
	// none).
	RetryAfter time.Duration
}

// Error returns e.g. "Twilio: HTTP 400, error 21211: Invalid 'To' Phone
// Number (https://www.twilio.com/docs/errors/21211)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("Twilio: HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != 0 {
		b.WriteString(", error ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.MoreInfo != "" {
		b.WriteString(" (")
		b.WriteString(e.MoreInfo)
		b.WriteString(")")
	}
	return b.String()
}

// Temporary reports whether a later attempt may succeed: too many
// requests (HTTP 429, error 20429), a server error (5xx), and a refused
// authentication (HTTP 401, error 20003), which concerns notifyd's
// configuration rather than the message. Every other refusal (an invalid
// or unsubscribed number, a request the API does not accept) is
// permanent.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Code == CodeTooManyRequests ||
		e.Status >= 500 || e.Status == http.StatusUnauthorized || e.Code == CodeAuthentication
}

// classify turns what twilio-go returned for a send, and what the
// exchange saw, into Send's error: an *APIError for an HTTP error (with
// delivery.ErrRecipientGone for an unsubscribed recipient), wrapped with
// delivery.Temporary when a later attempt may succeed; transport failures
// are temporary.
func classify(err error, x *exchange, to string) error {
	status, retryAfter, body := x.reply()
	var tre *client.TwilioRestError
	var v1 *client.RestErrorV1
	var ae *APIError
	switch {
	case errors.As(err, &tre):
		ae = &APIError{Status: tre.Status, Code: tre.Code, Message: tre.Message, MoreInfo: tre.MoreInfo}
	case errors.As(err, &v1):
		ae = &APIError{Status: v1.HttpStatusCode, Code: v1.Code, Message: v1.Message}
	case status >= 400:
		// An error body twilio-go could not decode (a proxy's HTML page).
		ae = &APIError{Status: status}
	}
	if ae == nil {
		if status >= 200 && status < 300 {
			// Twilio accepted the message but its reply could not be read:
			// sending again would send it twice.
			return fmt.Errorf("Twilio accepted the SMS to %s (HTTP %d) but its reply could not be read: %v", to, status, err)
		}
		return delivery.Temporary(fmt.Errorf("sending the SMS to %s: %w", to, transportError(err)), 0)
	}
	if status != 0 {
		ae.Status = status // the HTTP status seen wins over the body's claim
	}
	ae.RetryAfter = retryAfter
	if ae.Message == "" {
		ae.Message = bodyReason(body)
	}
	if ae.Temporary() {
		return delivery.Temporary(ae, retryAfter)
	}
	if ae.Code == CodeUnsubscribed {
		return &goneError{ae}
	}
	return ae
}

// goneError is an *APIError that also says the recipient is gone for good
// (delivery.ErrRecipientGone), so the engine disables the method.
type goneError struct{ *APIError }

// Error is the APIError's, saying the method is disabled.
func (e *goneError) Error() string {
	return e.APIError.Error() + "; the recipient unsubscribed (replied STOP): this delivery method is disabled"
}

// Unwrap gives both the *APIError and delivery.ErrRecipientGone.
func (e *goneError) Unwrap() []error { return []error{e.APIError, delivery.ErrRecipientGone} }

// transportError describes a failure to get an answer.
func transportError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer from Twilio in time: %w", err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted (notifyd is stopping): %w", err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the connection to Twilio was cut: %w", err)
	}
	return err
}

// bodyReason extracts a reason from an error reply that was not a Twilio
// error: an RFC 9457 problem (Prism's: its title, detail and validation
// messages) or the body's first line.
func bodyReason(body []byte) string {
	var p struct {
		Title      string `json:"title"`
		Detail     string `json:"detail"`
		Message    string `json:"message"`
		Validation []struct {
			Message string `json:"message"`
		} `json:"validation"`
	}
	if json.Unmarshal(body, &p) == nil {
		var parts []string
		for _, v := range p.Validation {
			if v.Message != "" {
				parts = append(parts, v.Message)
			}
		}
		if len(parts) > 0 {
			return strings.TrimSpace(p.Title + ": " + strings.Join(parts, "; "))
		}
		for _, s := range []string{p.Message, p.Detail, p.Title} {
			if s != "" {
				return s
			}
		}
	}
	s := strings.TrimSpace(string(body))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return truncate(clean.Line(s), 200)
}
