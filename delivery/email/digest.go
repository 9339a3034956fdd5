package email

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// DigestInput is everything a digest email is written from.
type DigestInput struct {
	// Digest is what the digest says, collapsed ([message.Collapse]); it
	// must have an entry.
	Digest message.Digest
	// Since and Until bound when its notifications were held.
	Since, Until time.Time
	// System, Principal, Recipient, Locale, TimeZone, UnsubscribeURL,
	// MessageIDDomain and DeliveryID are as in [RenderInput].
	System, Principal, Recipient, Locale string
	TimeZone                             *time.Location
	UnsubscribeURL                       string
	MessageIDDomain                      string
	DeliveryID                           string
	// PreferencesURL opens the recipient's preference page ("" for no
	// "manage notifications" link): an absolute http(s) URL.
	PreferencesURL string
}

// maxDigestListed is the most entries a digest email lists; it says how
// many more there are.
const maxDigestListed = 200

// digestView is the data of a digest's templates (_digest.tmpl).
type digestView struct {
	Lang, Locale, TimeZone     string
	System, Account, Recipient string
	UnsubscribeURL             string
	PreferencesURL             string
	Subject                    string
	// Count is the number of entries; More those not listed.
	Count, More int
	// Period is when the notifications were held, in the recipient's
	// zone ("Tuesday 8 December 2026, 09:00–10:00 CET").
	Period string
	// Calendar is the name of the only calendar, "" when there are
	// several (or none).
	Calendar  string
	Calendars []digestCalendar
}

// digestCalendar is one calendar's entries; Name is "" for the
// notifications without a calendar.
type digestCalendar struct {
	Name  string
	Items []digestItem
}

// digestItem is one entry: its view as a single message has it, its
// headline (the single message's subject) and the changes to detail
// under it.
type digestItem struct {
	*view
	Headline string
	// Details are a modification's changes that the headline does not
	// say whole: all of them when it leads with a new time (it says the
	// time now, not before), else all but the one it leads with.
	Details []message.FieldChange
}

// RenderDigest writes the digest email for in: a subject counting the
// entries, text and HTML parts listing them by calendar (each entry's
// headline is the subject its own message would have, and a change's
// details follow), the List-Unsubscribe headers and a "manage
// notifications" link when in has the URLs.
func (r *Renderer) RenderDigest(in DigestInput) (*Message, error) {
	if in.Digest.Entries == 0 {
		return nil, errors.New("email: render digest: no entry")
	}
	to, err := checkRecipient(in.Recipient)
	if err != nil {
		return nil, err
	}
	msgID, err := messageID(in.DeliveryID, in.MessageIDDomain)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
	}
	if in.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(in.UnsubscribeURL); err != nil {
			return nil, err
		}
		headers["List-Unsubscribe"] = "<" + in.UnsubscribeURL + ">"
		headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	if in.PreferencesURL != "" {
		if err := checkUnsubscribeURL(in.PreferencesURL); err != nil {
			return nil, fmt.Errorf("%w (preferences URL)", err)
		}
	}
	lt, tag := r.pick(in.Locale)
	v, err := lt.digestView(in, tag)
	if err != nil {
		return nil, err
	}
	subject, _, err := message.Execute(maxSubjectBytes, func(w io.Writer) error {
		return lt.text[message.Generic].ExecuteTemplate(w, "digest-subject", v)
	})
	if err != nil {
		return nil, fmt.Errorf("email: render digest subject: %w", err)
	}
	v.Subject = message.Truncate(clean.Line(subject), maxSubjectRunes)
	if v.Subject == "" {
		return nil, errors.New("email: render digest: empty subject")
	}
	// List what fits: all entries up to maxDigestListed, else half as
	// many each time, the rest counted.
	all := v.Calendars
	var p parts
	for listed := min(v.Count, maxDigestListed); ; listed /= 2 {
		v.Calendars, v.More = firstEntries(all, listed), v.Count-listed
		if p, err = lt.digestBody(v); err != nil {
			return nil, err
		}
		if p.fit() || listed == 0 {
			break
		}
	}
	if !p.fit() {
		return nil, errors.New("email: render digest: over the size limit even without entries")
	}
	m := &Message{To: to, Subject: v.Subject, Text: p.text, HTML: p.html, Headers: headers, MessageID: msgID}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// digestView is the view of in's digest: each entry's view with its
// free-text fields cut to message.TightFieldRunes, and its headline.
func (lt *langTemplates) digestView(in DigestInput, tag string) (*digestView, error) {
	tf := message.NewTimeFormat(message.Long, lt.lang, tag, in.TimeZone)
	v := &digestView{
		Lang: lt.lang, Locale: tag, TimeZone: tf.Location().String(),
		System: clean.Line(in.System), Account: clean.LastSegment(in.Principal), Recipient: clean.Line(in.Recipient),
		UnsubscribeURL: in.UnsubscribeURL, PreferencesURL: in.PreferencesURL,
		Count: in.Digest.Entries, Period: tf.Span(in.Since, in.Until, false),
	}
	if len(in.Digest.Groups) == 1 {
		v.Calendar = message.Truncate(in.Digest.Groups[0].Name, 60)
	}
	for _, g := range in.Digest.Groups {
		dc := digestCalendar{Name: message.Truncate(g.Name, message.TightFieldRunes)}
		for _, e := range g.Entries {
			item, err := lt.digestItem(in, e, tag)
			if err != nil {
				return nil, err
			}
			dc.Items = append(dc.Items, item)
		}
		v.Calendars = append(v.Calendars, dc)
	}
	return v, nil
}

// digestItem is one entry's view and headline.
func (lt *langTemplates) digestItem(in DigestInput, e message.DigestEntry, tag string) (digestItem, error) {
	iv, _ := newView(RenderInput{Notification: e.Notification, System: in.System, Principal: in.Principal,
		Recipient: in.Recipient, TimeZone: in.TimeZone, CalendarName: e.CalendarName}, lt.lang, tag, message.TightFieldRunes)
	typ := string(e.Notification.Type)
	if !lt.files[typ] {
		typ = message.Generic
	}
	headline, _, err := message.Execute(maxSubjectBytes, func(w io.Writer) error {
		return lt.text[typ].ExecuteTemplate(w, "subject", iv)
	})
	if err != nil {
		return digestItem{}, fmt.Errorf("email: render digest entry %s: %w", typ, err)
	}
	item := digestItem{view: iv, Headline: message.Truncate(clean.Line(headline), maxSubjectRunes)}
	if u := iv.Update; u != nil && u.Action == "modified" {
		item.Details = u.Rest
		if u.Main != nil && slices.Contains([]string{"moved", "start", "end", "due"}, u.Main.Kind) {
			item.Details = u.Changes
		}
	}
	return item, nil
}

// firstEntries is the first n entries of cals, by calendar.
func firstEntries(cals []digestCalendar, n int) []digestCalendar {
	var out []digestCalendar
	for _, c := range cals {
		if n <= 0 {
			break
		}
		if len(c.Items) > n {
			c.Items = c.Items[:n]
		}
		n -= len(c.Items)
		out = append(out, c)
	}
	return out
}

// digestBody renders a digest's text and HTML parts.
func (lt *langTemplates) digestBody(v *digestView) (parts, error) {
	var p parts
	var err error
	p.text, p.textFull, err = message.Execute(MaxTextBytes, func(w io.Writer) error {
		return lt.text[message.Generic].ExecuteTemplate(w, "digest-text", v)
	})
	if err != nil {
		return parts{}, fmt.Errorf("email: render digest text: %w", err)
	}
	p.text = tidyText(p.text)
	p.html, p.htmlFull, err = message.Execute(MaxHTMLBytes, func(w io.Writer) error {
		return lt.html[message.Generic].ExecuteTemplate(w, "digest-html", v)
	})
	if err != nil {
		return parts{}, fmt.Errorf("email: render digest html: %w", err)
	}
	if p.html = strings.TrimSpace(p.html); p.html != "" {
		p.html += "\n"
	}
	return p, nil
}

// sampleDigest is what NewRenderer checks the digest templates with: an
// entry of each calendar update type, a reminder and a sharing
// invitation, in a calendar, and one without a calendar.
func sampleDigest() DigestInput {
	var items []delivery.DigestItem
	for _, typ := range []notifyd.NotificationType{notifyd.TypeEventModified, notifyd.TypeTodoCreated,
		notifyd.TypeCalendarModified, notifyd.TypeReminder, notifyd.TypeShareInvite} {
		n := message.Sample(typ)
		if n.Update != nil {
			n.Update.UID = string(typ)
		}
		items = append(items, delivery.DigestItem{DeliveryID: string(typ), Notification: n})
	}
	items = append(items, delivery.DigestItem{DeliveryID: "status", Notification: &notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance"}})
	in := DigestInput{Digest: message.Collapse(items), Since: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
		PreferencesURL: "https://example.org/preferences"}
	in.System, in.Principal, in.Recipient = sampleInput.System, sampleInput.Principal, sampleInput.Recipient
	in.UnsubscribeURL, in.DeliveryID, in.MessageIDDomain = sampleInput.UnsubscribeURL, sampleInput.DeliveryID, sampleInput.MessageIDDomain
	return in
}
