package bounce

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Feedback reports (ARF, RFC 5965): what a mailbox provider's feedback
// loop (Yahoo's CFL, Microsoft's JMRP, the Validity-run loops of
// Comcast, Fastmail and others) sends when a recipient marks a message
// as spam. A multipart/report; report-type=feedback-report of a
// human-readable part, a message/feedback-report part (Feedback-Type,
// User-Agent, Version, Original-Mail-From, Original-Rcpt-To,
// Arrival-Date, Reporting-MTA…) and the reported message
// (message/rfc822) or its headers (text/rfc822-headers).

// FeedbackLocal is the local part of the fixed address the listener
// takes feedback reports for, besides the bounce addresses: a provider's
// feedback loop is registered to one address, fbl@<bounce domain>.
const FeedbackLocal = "fbl"

// maxUserAgent bounds a report's User-Agent, in bytes.
const maxUserAgent = 200

// FeedbackAddress is the fixed address of the bounce domain the
// listener takes feedback reports (complaints) for: fbl@<domain>.
func (v *VERP) FeedbackAddress() string { return FeedbackLocal + "@" + v.domain }

// isFeedbackAddress reports whether addr is v's FeedbackAddress (angle
// brackets and case do not matter).
func (v *VERP) isFeedbackAddress(addr string) bool {
	addr = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "<"), ">")
	return strings.EqualFold(addr, v.FeedbackAddress())
}

// parseFeedback makes the report of a feedback report whose parts w
// read; h is its header, rcpt and v as for Parse.
func parseFeedback(h mail.Header, w *walk, rcpt string, v *VERP) (Report, error) {
	if w.feedback == nil {
		return Report{}, errors.New("bounce: malformed feedback report: no message/feedback-report part")
	}
	var f map[string]string
	if blocks := fieldBlocks(string(w.feedback)); len(blocks) > 0 {
		f = blocks[0]
	}
	ft := strings.ToLower(strings.Trim(strings.Fields(f["feedback-type"] + " ;")[0], ";"))
	if ft == "" {
		return Report{}, errors.New("bounce: malformed feedback report: no Feedback-Type")
	}
	r := Report{Format: "arf", FeedbackType: ft, UserAgent: truncate(f["user-agent"], maxUserAgent),
		ReportingMTA: typed(f["reporting-mta"])}
	switch ft {
	case "abuse", "fraud", "virus", "other":
		r.Kind = Complaint
	case "not-spam":
		r.Kind = NotSpam
	case "auth-failure":
		return Report{}, fmt.Errorf("%w: an authentication failure report (Feedback-Type auth-failure, RFC 6591: DMARC, DKIM or SPF), not a complaint", ErrNotBounce)
	default:
		return Report{}, fmt.Errorf("%w: a feedback report of type %q, which is no complaint", ErrNotBounce, truncate(ft, 40))
	}
	if r.ReportingMTA == "" {
		if from, err := mail.ParseAddress(h.Get("From")); err == nil {
			r.ReportingMTA = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
		}
	}
	if a, err := mail.ParseAddress(strings.TrimSpace(f["original-rcpt-to"])); err == nil && !strings.Contains(strings.ToLower(a.Address), "redacted") {
		r.Recipient = a.Address
	}
	id, err := feedbackToken(h, w.original, f, rcpt, v)
	if err != nil {
		return Report{}, err
	}
	r.DeliveryID = id
	return r, nil
}

// feedbackToken finds the delivery a feedback report is about: the
// bounce address in the reported message's Return-Path, else in the
// report's Original-Mail-From, else where the report was sent (token).
func feedbackToken(h mail.Header, original []byte, f map[string]string, rcpt string, v *VERP) (string, error) {
	var candidates []string
	if original != nil {
		if blocks := fieldBlocks(string(original)); len(blocks) > 0 {
			candidates = append(candidates, addresses(blocks[0]["return-path"])...)
		}
	}
	candidates = append(candidates, addresses(f["original-mail-from"])...)
	forged := false
	for _, c := range candidates {
		id, err := v.Decode(c)
		switch {
		case err == nil:
			return id, nil
		case errors.Is(err, ErrForged):
			forged = true
		}
	}
	id, err := token(h, rcpt, v)
	switch {
	case err == nil:
		return id, nil
	case forged || errors.Is(err, ErrForged):
		return "", fmt.Errorf("%w: in the reported message's Return-Path or the report's Original-Mail-From", ErrForged)
	}
	return "", fmt.Errorf("%w: neither the reported message's Return-Path nor the report's Original-Mail-From is one (a complaint about mail another system sent?)", ErrNoToken)
}

// truncate cuts s to at most n bytes, not inside a character.
func truncate(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	if n < len(s) {
		return s[:n]
	}
	return s
}
