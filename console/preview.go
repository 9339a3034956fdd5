package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/delivery/im"
	"github.com/notifyd/notifyd/delivery/sms"
	"github.com/notifyd/notifyd/delivery/webhook"
	"github.com/notifyd/notifyd/store"
)

// Previewer writes a delivery's message again, as its recipient saw it:
// from the stored notification, with the channel's own renderer (and the
// same templates), in the recipient's language and time zone. The links
// a message carried (unsubscribe, preferences) are signed per message
// and are left out.
type Previewer struct {
	email       *email.Renderer
	sms         *sms.Renderer
	im          *im.Renderer
	smsSegments int
}

// NewPreviewer loads the renderers: the email templates overridden by
// those in emailTemplatesDir ("" for none), as the email channel does;
// smsSegments is channels.twilio.max_segments.
func NewPreviewer(emailTemplatesDir string, smsSegments int) (*Previewer, error) {
	e, err := email.NewRenderer(emailTemplatesDir)
	if err != nil {
		return nil, err
	}
	s, err := sms.NewRenderer()
	if err != nil {
		return nil, err
	}
	i, err := im.NewRenderer()
	if err != nil {
		return nil, err
	}
	return &Previewer{email: e, sms: s, im: i, smsSegments: smsSegments}, nil
}

// Preview is a message as its recipient saw it.
type Preview struct {
	// Subject, Text and HTML are an email's; Text alone an SMS's or an
	// IM's body; JSON a webhook's body.
	Subject, Text, HTML, JSON string
	// Calendar is the iCalendar object an IM carried.
	Calendar string
	// Locale and Zone are what it was written in.
	Locale, Zone string
	// Err says why it could not be written again.
	Err string
}

// Render writes d's message from its notification n, in the locale and
// zone of its subscription sub (nil when deleted: English, UTC).
func (p *Previewer) Render(d *store.DeliveryRecord, n *store.NotificationRecord, sub *notifyd.Subscription) Preview {
	out := Preview{Locale: "en", Zone: "UTC"}
	if sub != nil {
		out.Locale, out.Zone = sub.Locale, sub.TimeZone
	}
	tz, err := time.LoadLocation(out.Zone)
	if err != nil {
		tz = time.UTC
	}
	var note notifyd.Notification
	if err := json.Unmarshal(n.Parsed, &note); err != nil || note.Type == "" {
		out.Err = "the stored notification cannot be read"
		if err != nil {
			out.Err += ": " + err.Error()
		}
		return out
	}
	at := d.SentAt
	if at.IsZero() {
		at = d.CreatedAt
	}
	switch notifyd.Channel(d.Channel) {
	case notifyd.ChannelEmail:
		m, err := p.email.Render(email.RenderInput{Notification: &note, System: d.System, Principal: d.Principal,
			Recipient: d.Address, Locale: out.Locale, TimeZone: tz, CalendarName: note.Calendar.DisplayName, DeliveryID: d.ID})
		if err != nil {
			out.Err = err.Error()
			return out
		}
		out.Subject, out.Text, out.HTML = m.Subject, m.Text, m.HTML
	case notifyd.ChannelSMS:
		text, err := p.sms.Render(sms.RenderInput{Notification: &note, System: d.System, Principal: d.Principal,
			Locale: out.Locale, TimeZone: tz, CalendarName: note.Calendar.DisplayName, MaxSegments: p.smsSegments})
		if err != nil {
			out.Err = err.Error()
			return out
		}
		out.Text = text
	case notifyd.ChannelIM:
		m, err := p.im.Render(im.RenderInput{Notification: &note, System: d.System, Principal: d.Principal,
			Recipient: d.Address, Locale: out.Locale, TimeZone: tz, CalendarName: note.Calendar.DisplayName,
			DeliveryID: d.ID, Now: at})
		if err != nil {
			out.Err = err.Error()
			return out
		}
		out.Text, out.Calendar = m.Body, m.Calendar
	case notifyd.ChannelWebhook:
		body, err := webhook.Render(&delivery.Request{DeliveryID: d.ID, Notification: &note, System: d.System,
			Principal: d.Principal, Address: d.Address, Locale: out.Locale, TimeZone: tz,
			CalendarName: note.Calendar.DisplayName}, at)
		if err != nil {
			out.Err = err.Error()
			return out
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") == nil {
			body = pretty.Bytes()
		}
		out.JSON = string(body)
	default:
		out.Err = fmt.Sprintf("no renderer for channel %q", d.Channel)
	}
	return out
}
