package bounce

import (
	"errors"
	"strings"
)

// ErrNotBounce means a message is not a bounce report: an auto-reply
// (out of office, vacation), a reply by a person, or anything else sent
// to a bounce address. It is to be dropped, not recorded.
var ErrNotBounce = errors.New("bounce: not a bounce report")

// ErrNoToken means a bounce report names no bounce address of this
// notifyd: neither its envelope recipient nor its headers carry one.
var ErrNoToken = errors.New("bounce: the report names no bounce address of this notifyd")

// Action is what happened to the message for the recipient (RFC 3464
// section 2.3.3).
type Action string

// The actions of RFC 3464.
const (
	ActionFailed    Action = "failed"
	ActionDelayed   Action = "delayed"
	ActionDelivered Action = "delivered"
	ActionRelayed   Action = "relayed"
	ActionExpanded  Action = "expanded"
)

// Kind classifies a report for what notifyd does with it.
type Kind string

// The kinds of reports.
const (
	// Hard is a permanent failure (status 5.x.x, action failed): the
	// delivery bounced and the address should not be sent to again.
	Hard Kind = "hard"
	// Soft is a temporary failure (4.x.x, or action delayed): the
	// receiving side may still deliver it or accept the next message.
	Soft Kind = "soft"
	// Success is a positive report (delivered, relayed, expanded).
	Success Kind = "success"
	// Complaint is a feedback report (ARF, RFC 5965) of type abuse,
	// fraud, virus or other: the recipient, or their mailbox provider
	// for them, reported the message as unwanted.
	Complaint Kind = "complaint"
	// NotSpam is a feedback report of type not-spam (RFC 6430): the
	// recipient said a message was not spam after all.
	NotSpam Kind = "not-spam"
)

// Report is one parsed bounce report about one delivery.
type Report struct {
	// DeliveryID is the delivery the report is about, from the bounce
	// address it was sent to (its MAC verified).
	DeliveryID string
	// Kind is hard, soft, success, complaint or not-spam.
	Kind Kind
	// Recipient is the address that failed (Final-Recipient, else
	// Original-Recipient, else as the text names it), or the one that
	// complained (Original-Rcpt-To); "" when the report does not say
	// (providers often redact it in complaints).
	Recipient string
	// Action is the DSN action; for plain-text reports, failed or
	// delayed as the text says.
	Action Action
	// Status is the enhanced status code ("5.1.1"); "" when none was
	// found.
	Status string
	// Diagnostic is the remote server's reply or the report's
	// explanation ("550 5.1.1 user unknown"), at most 1000 characters.
	Diagnostic string
	// ReportingMTA is the host that wrote the report (for a complaint,
	// its Reporting-MTA, else the domain of its From address: the
	// provider's reporting domain); "" if unknown.
	ReportingMTA string
	// Format says which format was recognised: "rfc3464", "qmail",
	// "exim", "postfix", "microsoft", "gmail" or "text"; "arf" for a
	// feedback report.
	Format string
	// FeedbackType is a feedback report's Feedback-Type, in lower case
	// ("abuse", "fraud", "virus", "other", "not-spam"); "" for a bounce.
	FeedbackType string
	// UserAgent is a feedback report's User-Agent, the software that
	// wrote it ("Yahoo!-Mail-Feedback/2.0"), at most 200 bytes.
	UserAgent string
}

// kindOf classifies action and status.
func kindOf(a Action, status string) Kind {
	switch {
	case a == ActionDelivered || a == ActionRelayed || a == ActionExpanded:
		return Success
	case a == ActionDelayed || strings.HasPrefix(status, "4"):
		return Soft
	case strings.HasPrefix(status, "2"):
		return Success
	}
	return Hard
}
