package email

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// Message is a rendered email.
type Message struct {
	// To is the recipient's address.
	To string
	// Subject is the subject line (one line, not yet MIME-encoded).
	Subject string
	// Text is the text/plain part.
	Text string
	// HTML is the text/html alternative; "" sends the text part alone.
	HTML string
	// Headers are extra header fields, e.g. Auto-Submitted and
	// List-Unsubscribe; they cannot replace the ones the Sender writes
	// (From, To, Subject, Date, Message-ID, MIME and envelope fields).
	Headers map[string]string
	// MessageID is the Message-ID with its angle brackets,
	// "<notifyd.DELIVERYID@domain>". A value without "@domain" is
	// completed by the Sender with its From address's domain; "" makes
	// the Sender generate a random one.
	MessageID string
	// Attachments are files sent after the text and HTML parts (a
	// reminder's .ics), at most MaxAttachmentBytes in all.
	Attachments []Attachment
	// ReturnPath is the envelope sender (SMTP MAIL FROM), where bounce
	// reports go: a per-delivery bounce address (package bounce); ""
	// means the Sender's From address. It is not written as a header:
	// the final mail server adds Return-Path from the envelope.
	ReturnPath string
	// Calendar, when set, is an iTIP message (RFC 5546) sent as a
	// text/calendar part beside Text and HTML, in their
	// multipart/alternative (RFC 6047, iMIP), so that the recipient's
	// mail client shows it natively.
	Calendar *CalendarPart
}

// CalendarPart is the iCalendar object of an iMIP message.
type CalendarPart struct {
	// Method is the object's METHOD ("REQUEST", "REPLY", …), which the
	// part's Content-Type repeats (RFC 6047 §2.4).
	Method string
	// Data is the iCalendar object, at most MaxCalendarBytes.
	Data []byte
}

// MaxCalendarBytes bounds a Message's Calendar part.
const MaxCalendarBytes = 64 << 10

// itipMethod is an iTIP method name: letters only.
var itipMethod = regexp.MustCompile(`^[A-Z]{1,20}$`)

// check refuses a part whose method or size could break the message.
func (c *CalendarPart) check() error {
	if !itipMethod.MatchString(c.Method) {
		return fmt.Errorf("email: calendar part: method %q is not an iTIP method", c.Method)
	}
	if len(c.Data) == 0 || len(c.Data) > MaxCalendarBytes {
		return fmt.Errorf("email: calendar part of %d bytes: want 1 to %d", len(c.Data), MaxCalendarBytes)
	}
	return nil
}

// Attachment is a file sent with a message, base64-encoded, as an
// attachment (Content-Disposition: attachment).
type Attachment struct {
	// Name is the file name: letters, digits, ".", "-" and "_", at most
	// 64 characters ("reminder.ics").
	Name string
	// ContentType is its media type with parameters
	// ("text/calendar; charset=utf-8; method=PUBLISH").
	ContentType string
	// Data is its content.
	Data []byte
}

// MaxAttachmentBytes caps the attachments of a message, in all, before
// encoding: with the text and HTML parts at their limits, a message
// stays under 512 KiB once encoded.
const MaxAttachmentBytes = 16 << 10

// attachmentName is what an attachment's file name may be.
var attachmentName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// check validates an attachment.
func (a Attachment) check() error {
	if !attachmentName.MatchString(a.Name) || strings.HasPrefix(a.Name, ".") {
		return fmt.Errorf("email: attachment name %q: only letters, digits, . - _ (at most 64, not starting with .)", a.Name)
	}
	if err := headerValue("attachment content type", a.ContentType); err != nil {
		return err
	}
	if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
		return fmt.Errorf("email: attachment %s: content type %q: %w", a.Name, a.ContentType, err)
	}
	return nil
}

// reservedHeaders are written by the Sender and cannot be set through
// Message.Headers (canonical MIME header keys).
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true,
	"Date": true, "Message-Id": true, "Mime-Version": true, "Sender": true,
	"Reply-To": true, "Return-Path": true, "Received": true,
	"Content-Type": true, "Content-Transfer-Encoding": true,
	"Content-Disposition": true, "Content-Id": true,
}

// errInjection is wrapped by the errors for header values holding a line
// break.
var errInjection = errors.New("line break in a header value (header injection refused)")

// check validates m: one valid recipient, and no header value that could
// inject header lines.
func (m *Message) check() error {
	if m == nil {
		return errors.New("email: nil message")
	}
	if err := headerValue("To", m.To); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("email: recipient %q: %w", m.To, err)
	}
	if err := headerValue("Subject", m.Subject); err != nil {
		return err
	}
	if err := headerValue("Message-ID", m.MessageID); err != nil {
		return err
	}
	if id := m.MessageID; id != "" {
		if len(id) < 3 || id[0] != '<' || id[len(id)-1] != '>' || strings.ContainsAny(id[1:len(id)-1], " \t<>") {
			return fmt.Errorf("email: Message-ID %q is not of the form <id@domain>", id)
		}
	}
	if rp := m.ReturnPath; rp != "" && (strings.Count(rp, "@") != 1 || strings.IndexFunc(rp, func(r rune) bool { return r <= ' ' || r > '~' || r == '<' || r == '>' }) >= 0) {
		return fmt.Errorf("email: return path %q is not a plain address", rp)
	}
	for k, v := range m.Headers {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r > '~' || r == ':' }) >= 0 {
			return fmt.Errorf("email: header name %q is not valid", k)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] || strings.HasPrefix(textproto.CanonicalMIMEHeaderKey(k), "Content-") {
			return fmt.Errorf("email: header %s is written by the sender and cannot be set", k)
		}
		if err := headerValue(k, v); err != nil {
			return err
		}
	}
	if m.Text == "" && m.HTML == "" {
		return errors.New("email: message has no body")
	}
	size := 0
	for _, a := range m.Attachments {
		if err := a.check(); err != nil {
			return err
		}
		size += len(a.Data)
	}
	if m.Calendar != nil {
		if err := m.Calendar.check(); err != nil {
			return err
		}
	}
	if size > MaxAttachmentBytes {
		return fmt.Errorf("email: attachments of %d bytes, over the %d-byte limit", size, MaxAttachmentBytes)
	}
	return nil
}

// headerValue refuses line breaks and NULs in a header value.
func headerValue(name, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("email: %s: %w", name, errInjection)
	}
	return nil
}
