package im

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// DigestInput is everything a digest message is written from.
type DigestInput struct {
	// Digest is what the digest says, collapsed ([message.Collapse]); it
	// must have an entry.
	Digest message.Digest
	// System, Principal, Recipient, Locale, TimeZone and DeliveryID are
	// as in [RenderInput].
	System, Principal, Recipient, Locale string
	TimeZone                             *time.Location
	DeliveryID                           string
	// PreferencesURL, when not "", is shown whole on the body's last
	// line, as in [RenderInput].
	PreferencesURL string
}

const (
	// digestFieldRunes is what each free-text field of an entry is cut
	// to.
	digestFieldRunes = 100
	// digestEntryLines is the most lines of an entry's own text a digest
	// shows: its first sentence and what changed.
	digestEntryLines = 4
)

// digestHead is the data of "digest-head".
type digestHead struct {
	Count    int
	Calendar string
}

// RenderDigest writes a digest as one message: a head counting the
// entries, then each calendar's name and its entries, each the first
// lines of its own message ("The event “Standup” was changed:", "Moved:
// …"), as many whole entries as fit in a message, then how many more
// there are. A digest has no calendar object. With in.PreferencesURL,
// the last line shows the link, whole, and fewer entries may fit.
func (r *Renderer) RenderDigest(in DigestInput) (*Message, error) {
	if in.Digest.Entries == 0 {
		return nil, errors.New("im: render digest: no entry")
	}
	if _, _, err := parseJID(in.Recipient); err != nil {
		return nil, err
	}
	lt, tag := r.pick(in.Locale)
	gen := lt.tmpl[message.Generic]
	head := digestHead{Count: in.Digest.Entries}
	if len(in.Digest.Groups) == 1 {
		head.Calendar = message.Truncate(in.Digest.Groups[0].Name, 60)
	}
	body, err := run(gen, "digest-head", head)
	if err != nil {
		return nil, fmt.Errorf("im: render digest: %w", err)
	}
	link, err := linkLine(gen, in.PreferencesURL)
	if err != nil {
		return nil, fmt.Errorf("im: render digest: %w", err)
	}
	limit := bodyLimit(link)
	left := in.Digest.Entries
	for _, g := range in.Digest.Groups {
		name, err := run(gen, "digest-calendar", message.Truncate(g.Name, 60))
		if err != nil {
			return nil, fmt.Errorf("im: render digest: %w", err)
		}
		if len(in.Digest.Groups) == 1 {
			name = "" // the head names it
		}
		for i, e := range g.Entries {
			entry, err := lt.digestEntry(in, e, tag, g.Href != "")
			if err != nil {
				return nil, err
			}
			add := "\n• " + strings.ReplaceAll(entry, "\n", "\n  ")
			if i == 0 && name != "" {
				add = "\n" + name + add
			}
			more, err := run(gen, "digest-more", left)
			if err != nil {
				return nil, fmt.Errorf("im: render digest: %w", err)
			}
			if utf8.RuneCountInString(body+add)+1+utf8.RuneCountInString(more) > limit && left > 1 {
				body += "\n" + more
				return r.digestMessage(in, lt.lang, body, link)
			}
			body += add
			left--
		}
	}
	return r.digestMessage(in, lt.lang, body, link)
}

// digestMessage is the message of a digest's body, with the line link
// ("" for none) under it.
func (r *Renderer) digestMessage(in DigestInput, lang, body, link string) (*Message, error) {
	if limit := bodyLimit(link); utf8.RuneCountInString(body) > limit {
		body = truncate(body, limit)
	}
	if link != "" {
		body += "\n" + link
	}
	id := in.DeliveryID
	if id == "" {
		id = randomID()
	}
	m := &Message{To: strings.TrimSpace(in.Recipient), ID: "notifyd-" + clean.Line(id), Lang: lang, Body: body}
	if size := len(messageStanza(m, hintNoStore)); size > MaxStanzaBytes {
		return nil, fmt.Errorf("im: the digest stanza would be %d bytes, over the %d-byte limit", size, MaxStanzaBytes)
	}
	return m, nil
}

// digestEntry is one entry: the first lines of its own message, its
// calendar left out for an update listed under it (inCalendar).
func (lt *langTemplates) digestEntry(in DigestInput, e message.DigestEntry, tag string, inCalendar bool) (string, error) {
	v, _ := newView(RenderInput{Notification: e.Notification, System: in.System, Principal: in.Principal,
		Recipient: in.Recipient, TimeZone: in.TimeZone, CalendarName: e.CalendarName, DeliveryID: in.DeliveryID}, lt.lang, tag, digestFieldRunes)
	if v.Update != nil && inCalendar {
		v.Calendar = ""
	}
	typ := string(e.Notification.Type)
	if !lt.files[typ] {
		typ = message.Generic
	}
	out, err := run(lt.tmpl[typ], "text", v)
	if err != nil {
		return "", fmt.Errorf("im: render digest entry %s: %w", typ, err)
	}
	lines := strings.Split(tidyText(out), "\n")
	if len(lines) > digestEntryLines {
		lines = lines[:digestEntryLines]
	}
	return strings.Join(lines, "\n"), nil
}

// run executes the template name of t's set with data.
func run(t *template.Template, name string, data any) (string, error) {
	out, _, err := message.Execute(maxBodyBytes, func(w io.Writer) error { return t.ExecuteTemplate(w, name, data) })
	return strings.TrimSpace(out), err
}

// sampleDigest is what NewRenderer checks the digest templates with.
func sampleDigest() DigestInput {
	var items []delivery.DigestItem
	for _, typ := range []notifyd.NotificationType{notifyd.TypeEventModified, notifyd.TypeTodoCreated, notifyd.TypeReminder, notifyd.TypeShareInvite} {
		n := message.Sample(typ)
		if n.Update != nil {
			n.Update.UID = string(typ)
		}
		items = append(items, delivery.DigestItem{DeliveryID: string(typ), Notification: n})
	}
	items = append(items, delivery.DigestItem{DeliveryID: "status", Notification: &notifyd.Notification{Type: notifyd.TypeSystemStatus, Summary: "Maintenance"}})
	return DigestInput{Digest: message.Collapse(items), System: "system", Principal: "/principals/wilma/", Recipient: "wilma@example.org", DeliveryID: "check"}
}
