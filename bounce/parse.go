package bounce

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// MaxReportBytes bounds a report Parse reads (the listener refuses
// larger messages): reports quote the original message, which is small
// for notifyd's emails.
const MaxReportBytes = 4 << 20

// Limits of the MIME walk, against hostile nesting.
const (
	maxDepth = 6
	maxParts = 64
)

// Parse parses raw, a message sent to one of v's bounce addresses, into
// the report it makes about its delivery. rcpt is the envelope
// recipient it arrived for; "" when unknown (a message read from a
// mailbox), then its Delivered-To, X-Original-To, Envelope-To and To
// headers are searched for the bounce address.
//
// A feedback report (ARF, RFC 5965: a complaint sent by a mailbox
// provider's feedback loop, usually to a fixed address such as
// v.FeedbackAddress()) names its delivery in the message it reports on:
// the bounce address in that message's Return-Path, else in the
// report's Original-Mail-From, else rcpt as above. It gives a report of
// kind Complaint (feedback types abuse, fraud, virus, other) or NotSpam;
// an authentication failure report (auth-failure: DMARC, DKIM, SPF) and
// other feedback types are ErrNotBounce.
//
// Errors: ErrForged when the bounce address's token does not verify,
// ErrNoToken when the message names no bounce address of v,
// ErrNotBounce for a message that is no bounce report (an auto-reply),
// and an error saying what is wrong for a message that cannot be read.
func Parse(raw []byte, rcpt string, v *VERP) (Report, error) {
	if len(raw) > MaxReportBytes {
		return Report{}, fmt.Errorf("bounce: report of %d bytes, over the %d-byte limit", len(raw), MaxReportBytes)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Report{}, fmt.Errorf("bounce: malformed message: %w", err)
	}
	var w walk
	werr := w.part(textprotoHeader(msg.Header), msg.Body, 0)
	if w.arf || w.feedback != nil {
		// A complaint names its delivery in the message it reports on.
		if werr != nil {
			return Report{}, werr
		}
		return parseFeedback(msg.Header, &w, rcpt, v)
	}
	id, err := token(msg.Header, rcpt, v)
	if err != nil {
		return Report{}, err
	}
	if werr != nil {
		return Report{}, werr
	}
	r, err := w.report(msg.Header)
	if err != nil {
		return Report{}, err
	}
	r.DeliveryID = id
	if len(r.Diagnostic) > 1000 {
		r.Diagnostic = r.Diagnostic[:1000]
	}
	r.Kind = kindOf(r.Action, r.Status)
	return r, nil
}

// token finds the delivery ID in rcpt, else in the headers that say
// where the message was delivered to.
func token(h mail.Header, rcpt string, v *VERP) (string, error) {
	candidates := []string{rcpt}
	if rcpt == "" {
		candidates = nil
		for _, name := range []string{"Delivered-To", "X-Original-To", "Envelope-To", "To"} {
			for _, value := range h[name] {
				candidates = append(candidates, addresses(value)...)
			}
		}
	}
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
	if forged {
		return "", ErrForged
	}
	return "", ErrNoToken
}

// addresses returns the addresses of a header value, leniently.
func addresses(value string) []string {
	if list, err := mail.ParseAddressList(value); err == nil {
		out := make([]string, len(list))
		for i, a := range list {
			out[i] = a.Address
		}
		return out
	}
	return strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// header is a part's header, canonical keys.
type header interface{ Get(string) string }

type textprotoHeader mail.Header

func (h textprotoHeader) Get(k string) string { return mail.Header(h).Get(k) }

// walk gathers what a report is made of from its MIME tree.
type walk struct {
	parts  int
	status []byte // the first delivery-status part's body
	text   string // the first text/plain part, else text/html's text
	html   string
	// arf: the message is a feedback report (multipart/report;
	// report-type=feedback-report).
	arf bool
	// feedback is the first message/feedback-report part's body;
	// original, the first message or headers part of a feedback report
	// (the message reported on).
	feedback, original []byte
}

func (w *walk) part(h header, body io.Reader, depth int) error {
	w.parts++
	if depth > maxDepth || w.parts > maxParts {
		return errors.New("bounce: malformed message: MIME parts nested too deep or too many")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		if depth == 0 {
			return fmt.Errorf("bounce: malformed message: Content-Type %q: %w", ct, err)
		}
		return nil // a broken inner part is skipped
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth == 0 && mt == "multipart/report" && strings.EqualFold(params["report-type"], "feedback-report") {
			w.arf = true
		}
		if params["boundary"] == "" {
			return fmt.Errorf("bounce: malformed message: %s without a boundary", mt)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if w.status != nil || w.feedback != nil || (w.text != "" && !w.arf) {
					return nil // keep what was read before the damage
				}
				return fmt.Errorf("bounce: malformed message: %s: %w", mt, err)
			}
			if err := w.part(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status", "text/plain", "text/html", "message/feedback-report":
	default:
		if !original(mt) || (!w.arf && w.feedback == nil) || w.original != nil {
			return nil // other parts, and a bounce's returned message, are not read
		}
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxReportBytes))
	if err != nil {
		if original(mt) && w.feedback != nil {
			// A reported message cut short still has its header.
			w.original = data
			return nil
		}
		return fmt.Errorf("bounce: malformed message: reading %s: %w", mt, err)
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		// multipart.Reader decodes its parts already; this is the top
		// level's.
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
		if err != nil {
			return fmt.Errorf("bounce: malformed message: %s: quoted-printable: %w", mt, err)
		}
		data = dec
	case "base64":
		dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(data)))
		if err != nil {
			return fmt.Errorf("bounce: malformed message: %s: base64: %w", mt, err)
		}
		data = dec
	}
	switch mt {
	case "text/plain":
		if w.text == "" {
			w.text = string(data)
		}
	case "text/html":
		if w.html == "" {
			w.html = htmlText(string(data))
		}
	case "message/delivery-status", "message/global-delivery-status":
		if w.status == nil {
			w.status = data
		}
	case "message/feedback-report":
		if w.feedback == nil {
			w.feedback = data
		}
	default:
		w.original = data
	}
	return nil
}

// original reports whether a part of media type mt can be the message a
// feedback report is about, or its header.
func original(mt string) bool {
	switch mt {
	case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
		return true
	}
	return false
}

// report makes the report from what the walk found: the delivery
// status when there is one, else the text.
func (w *walk) report(h mail.Header) (Report, error) {
	if w.status != nil {
		if r, ok := parseDSN(w.status); ok {
			return r, nil
		}
	}
	text := w.text
	if text == "" {
		text = w.html
	}
	return parseText(h, strings.ReplaceAll(text, "\r\n", "\n"))
}

// htmlText is the text of an HTML part: tags dropped, a line per block.
func htmlText(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			in = true
			rest := strings.ToLower(s[i+1 : min(i+4, len(s))])
			if strings.HasPrefix(rest, "br") || strings.HasPrefix(rest, "p") || strings.HasPrefix(rest, "/p") ||
				strings.HasPrefix(rest, "div") || strings.HasPrefix(rest, "/di") || strings.HasPrefix(rest, "tr") {
				b.WriteByte('\n')
			}
		case c == '>':
			in = false
		case !in:
			b.WriteByte(c)
		}
	}
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&nbsp;", " ", "&#39;", "'", "&quot;", `"`)
	return r.Replace(b.String())
}
