package sms

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/message"
)

// DigestInput is everything a digest text is written from.
type DigestInput struct {
	// Digest is what the digest says, collapsed ([message.Collapse]); it
	// must have an entry.
	Digest message.Digest
	// System, Principal, Locale and TimeZone are as in [RenderInput].
	System, Principal, Locale string
	TimeZone                  *time.Location
	// MaxSegments is the number of segments the text must fit in (at
	// least 1).
	MaxSegments int
	// PreferencesURL, when not "", is shown on a last line of its own,
	// whole, if at least one whole entry fits with it (see
	// [Renderer.RenderDigest]).
	PreferencesURL string
}

// digestFieldRunes is what each free-text field of an entry is cut to.
const digestFieldRunes = 40

// digestHead is the data of "digest-head".
type digestHead struct {
	Count    int
	Calendar string
}

// RenderDigest writes a digest as one text within in.MaxSegments
// segments: a head counting the entries ("5 updates:"), then as many
// entries as fit, whole, separated by "; " (an update's headline, any
// other notification's own text), and how many more there are ("+2
// more"). An entry is never cut inside, except a first entry too long
// for the whole text, which is cut at a word.
//
// With in.PreferencesURL (a link [message.LinkURL] accepts), the text
// ends with a line showing it, never cut, and as many whole entries as
// fit with it. When not even one does, the link is left out, and the
// text is what it would be without one.
func (r *Renderer) RenderDigest(in DigestInput) (string, error) {
	text, _, err := r.renderDigest(in)
	return text, err
}

// renderDigest is RenderDigest; linked reports whether the text ends
// with the preference link.
func (r *Renderer) renderDigest(in DigestInput) (_ string, linked bool, _ error) {
	if in.Digest.Entries == 0 {
		return "", false, errors.New("sms: render digest: no entry")
	}
	types, lang, tag := r.pick(in.Locale)
	gen := types[message.Generic]
	head := digestHead{Count: in.Digest.Entries}
	if len(in.Digest.Groups) == 1 {
		head.Calendar = in.Digest.Groups[0].Name
	}
	headText, err := run(gen, "digest-head", head)
	if err != nil {
		return "", false, fmt.Errorf("sms: render digest: %w", err)
	}
	link, err := linkLine(gen, in.PreferencesURL)
	if err != nil {
		return "", false, fmt.Errorf("sms: render digest: %w", err)
	}
	var lines []string
	for _, g := range in.Digest.Groups {
		for _, e := range g.Entries {
			line, err := r.digestLine(types, lang, tag, in, e)
			if err != nil {
				return "", false, err
			}
			lines = append(lines, line)
		}
	}
	if link != "" {
		s, err := digestEntries(gen, in, headText, lines, "\n"+link)
		if s != "" || err != nil {
			return s, err == nil, err
		}
	}
	s, err := digestEntries(gen, in, headText, lines, "")
	return s, false, err
}

// digestEntries writes the digest's head, as many whole entries of lines
// as fit in in.MaxSegments with end after them, and how many more there
// are, then end. Without end, when not even one entry fits whole, the
// first one is cut at a word; with end, the text is then "".
func digestEntries(gen *template.Template, in DigestInput, headText string, lines []string, end string) (string, error) {
	segments := max(in.MaxSegments, 1)
	text := func(k int) (string, error) {
		s := headText + " " + strings.Join(lines[:k], "; ")
		if k < len(lines) {
			more, err := run(gen, "digest-more", len(lines)-k)
			if err != nil {
				return "", err
			}
			if k > 0 {
				s += ";"
			}
			s += " " + more
		}
		return s, nil
	}
	for k := len(lines); k >= 1; k-- {
		s, err := text(k)
		if err != nil {
			return "", fmt.Errorf("sms: render digest: %w", err)
		}
		if _, n := Segments(s + end); n <= segments {
			return s + end, nil
		}
	}
	if end != "" {
		return "", nil
	}
	// Not even one entry fits whole: the first, cut after a word, then
	// how many more there are.
	rest := ""
	if len(lines) > 1 {
		more, err := run(gen, "digest-more", len(lines)-1)
		if err != nil {
			return "", fmt.Errorf("sms: render digest: %w", err)
		}
		rest = "; " + more
	}
	words := strings.Fields(lines[0])
	for w := len(words) - 1; w >= 1; w-- {
		cut := strings.TrimRight(strings.Join(words[:w], " "), ",;:.-(")
		s := headText + " " + cut + ellipsis(cut) + rest
		if _, n := Segments(s); n <= segments {
			return s, nil
		}
	}
	return Shorten(headText+" "+lines[0]+rest, segments), nil
}

// digestLine is one entry in a few words: a modification's headline
// (and "(one occurrence)"), else the entry's own text on one line.
func (r *Renderer) digestLine(types map[string]*template.Template, lang, tag string, in DigestInput, e message.DigestEntry) (string, error) {
	v := newView(RenderInput{Notification: e.Notification, System: in.System, Principal: in.Principal,
		TimeZone: in.TimeZone, CalendarName: e.CalendarName}, lang, tag, digestFieldRunes)
	if v.Update != nil && len(in.Digest.Groups) == 1 {
		v.Calendar = "" // the head names it
	}
	typ := string(e.Notification.Type)
	t := types[typ]
	if t == nil {
		typ, t = message.Generic, types[message.Generic]
	}
	var line string
	var err error
	if v.Update != nil && v.Update.Action == "modified" {
		line, err = run(t, "u-headline", v.Update)
		if err == nil {
			var one string
			one, err = run(t, "u-one", v.Update)
			line += one
		}
	} else {
		line, err = render(t, v)
	}
	if err != nil {
		return "", fmt.Errorf("sms: render digest entry %s/%s: %w", lang, typ, err)
	}
	line = strings.Join(strings.Fields(gsmFriendly(line)), " ")
	return strings.TrimRight(line, "."), nil
}

// run executes the template name of t's set with data.
func run(t *template.Template, name string, data any) (string, error) {
	out, _, err := message.Execute(MaxRenderBytes, func(w io.Writer) error { return t.ExecuteTemplate(w, name, data) })
	return strings.TrimSpace(out), err
}

// sampleDigest is what newRenderer checks the digest templates with.
func sampleDigest() DigestInput {
	var items []delivery.DigestItem
	for _, typ := range []notifyd.NotificationType{notifyd.TypeEventModified, notifyd.TypeTodoCreated, notifyd.TypeReminder, notifyd.TypeShareInvite} {
		n := message.Sample(typ)
		if n.Update != nil {
			n.Update.UID = string(typ)
		}
		items = append(items, delivery.DigestItem{DeliveryID: string(typ), Notification: n})
	}
	return DigestInput{Digest: message.Collapse(items), System: "system", Principal: "/principals/wilma/", MaxSegments: 1}
}
