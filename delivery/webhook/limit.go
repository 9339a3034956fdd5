package webhook

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// MaxPayloadBytes caps a request body: under the 100 KB that common
// receivers accept by default (Express's JSON body parser), and some 30
// times what a notification usually takes.
const MaxPayloadBytes = 64 << 10

// maxElementBytes is the longest element name (and reminder identifier)
// kept when nothing but the notification's type and time fit.
const maxElementBytes = 1024

// fit marshals p, its notification shortened as far as needed for the
// body to fit in MaxPayloadBytes: free-text fields cut to
// message.MaxFieldRunes characters and overlong identifiers left out;
// then fields cut to message.TightFieldRunes and only as many changes,
// fields (by name) and an update's changed fields as fit (nearly: see
// message.MostThatFit); at last only the notification's type, time and
// element (if short), and a reminder's or an update's identifiers and
// times when they fit.
// Data.Truncated says whether any of it was done.
func (p *Payload) fit() ([]byte, error) {
	full := p.Data.Notification
	try := func(n *notifyd.Notification, truncated bool) ([]byte, bool, error) {
		p.Data.Notification, p.Data.Truncated = n, truncated
		b, err := json.Marshal(p)
		return b, len(b) <= MaxPayloadBytes, err
	}
	n, cut := message.Shorten(full, message.MaxFieldRunes)
	if b, ok, err := try(n, cut); err != nil || ok {
		return b, err
	}

	tight, _ := message.Shorten(full, message.TightFieldRunes)
	names := make([]string, 0, len(tight.Fields))
	for name := range tight.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	updateFields := 0
	if tight.Update != nil {
		updateFields = len(tight.Update.Fields)
	}
	first := func(k int) *notifyd.Notification {
		c := *tight
		c.Changes = tight.Changes[:min(k, len(tight.Changes))]
		if tight.Update != nil {
			u := *tight.Update
			u.Fields = u.Fields[:min(k, len(u.Fields))]
			c.Update = &u
		}
		c.Fields = nil
		for _, name := range names[:min(k, len(names))] {
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			c.Fields[name] = tight.Fields[name]
		}
		return &c
	}
	var best []byte
	k, err := message.MostThatFit(max(len(tight.Changes), len(names), updateFields), func(k int) (bool, error) {
		b, ok, err := try(first(k), true)
		if ok {
			best = b
		}
		return ok, err
	})
	if err != nil {
		return nil, err
	}
	if k >= 0 {
		return best, nil
	}

	bare := &notifyd.Notification{Type: full.Type, DTStamp: full.DTStamp}
	if len(full.Element) <= maxElementBytes {
		bare.Element = full.Element
	}
	if r := bareReminder(full.Reminder); r != nil {
		// A reminder's identity, when it fits, says which alarm rang.
		withReminder := *bare
		withReminder.Reminder = r
		if b, ok, err := try(&withReminder, true); err != nil || ok {
			return b, err
		}
	}
	if u := bareUpdate(full.Update); u != nil {
		// An update's identity, when it fits, says what changed; then
		// without the changed fields' names and times.
		for _, fields := range []bool{true, false} {
			withUpdate := *bare
			withUpdate.Update = u
			if !fields {
				c := *u
				c.Fields = nil
				withUpdate.Update = &c
			}
			if b, ok, err := try(&withUpdate, true); err != nil || ok {
				return b, err
			}
		}
	}
	b, ok, err := try(bare, true)
	if err == nil && !ok {
		err = fmt.Errorf("webhook: the body is %d bytes even without the notification's content, over the %d-byte limit", len(b), MaxPayloadBytes)
	}
	return b, err
}

// bareReminder is r without its texts and with its identifiers over
// maxElementBytes left out (nil when r is).
func bareReminder(r *notifyd.Reminder) *notifyd.Reminder {
	if r == nil {
		return nil
	}
	c := *r
	c.Text, c.Description = "", ""
	for _, p := range []*string{&c.Calendar, &c.Object, &c.UID, &c.RecurrenceID, &c.AlarmID, &c.Component, &c.Action, &c.TimeZone} {
		if len(*p) > maxElementBytes {
			*p = ""
		}
	}
	return &c
}

// bareUpdate is u without its texts: its identifiers over
// maxElementBytes and who made it left out, each changed field's name
// (when short) and times kept (nil when u is).
func bareUpdate(u *notifyd.Update) *notifyd.Update {
	if u == nil {
		return nil
	}
	c := *u
	c.By = notifyd.Person{}
	for _, p := range []*string{&c.Component, &c.Action, &c.Object, &c.UID, &c.RecurrenceID, &c.TimeZone} {
		if len(*p) > maxElementBytes {
			*p = ""
		}
	}
	c.Fields = nil
	for _, f := range u.Fields {
		if len(f.Field) > maxElementBytes {
			f.Field = ""
		}
		f.From, f.To = "", ""
		c.Fields = append(c.Fields, f)
	}
	return &c
}
