package message

import (
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

// Size limits on what a notification puts in a message. A notification
// may be up to 1 MiB of XML, and one value can be shown several times
// (a resource-change's event summary once per change, in the text and
// the HTML part of an email, escaped): each channel caps its own output
// too (see their package documentation), and these caps keep the input
// of its templates small.
const (
	// MaxFieldRunes is the most characters of one free-text field of a
	// notification (a summary or comment, a status, a name, a location,
	// a changed property, a field's value, a reminder's text or
	// description, an update's values before and after) that a message
	// shows; a longer one is cut at a word
	// and ends with "…".
	MaxFieldRunes = 2000
	// TightFieldRunes is the per-field limit a channel falls back to
	// when a message written with MaxFieldRunes is over its size limit.
	TightFieldRunes = 200
	// MaxIDBytes is the longest identifier (an href, a UID, an element
	// name, a field's name) kept; a longer one is left out rather than
	// cut, since a cut identifier would name something else.
	MaxIDBytes = 4096
)

// Shorten returns n with each free-text field cut to at most maxRunes
// characters (see [MaxFieldRunes]) and each identifier longer than
// [MaxIDBytes] left out, and whether anything was. n itself is never
// modified: it is returned as is when nothing needs cutting, otherwise
// a copy is. The lists (changes, fields) keep their length.
func Shorten(n *notifyd.Notification, maxRunes int) (*notifyd.Notification, bool) {
	if n == nil {
		return nil, false
	}
	if !(&shortener{max: maxRunes}).walk(n) {
		return n, false
	}
	c := clone(n)
	(&shortener{max: maxRunes, apply: true}).walk(c)
	return c, true
}

// shortener visits the strings of a notification: it reports whether any
// is over its limit, and cuts them when apply is set.
type shortener struct {
	max   int
	apply bool
	cut   bool
}

func (s *shortener) text(p *string) {
	if len(*p) <= s.max || utf8.RuneCountInString(*p) <= s.max {
		return
	}
	s.cut = true
	if s.apply {
		*p = Truncate(*p, s.max)
	}
}

func (s *shortener) id(p *string) {
	if len(*p) <= MaxIDBytes {
		return
	}
	s.cut = true
	if s.apply {
		*p = ""
	}
}

func (s *shortener) person(p *notifyd.Person) {
	s.id(&p.Href)
	s.text(&p.CommonName)
}

// walk visits every string of n and reports whether one is over its
// limit.
func (s *shortener) walk(n *notifyd.Notification) bool {
	s.id(&n.Element)
	s.id(&n.UID)
	s.id(&n.InReplyTo)
	s.person(&n.From)
	s.id(&n.Calendar.Href)
	s.text(&n.Calendar.DisplayName)
	s.text(&n.Access)
	s.text(&n.Status)
	s.text(&n.Summary)
	if e := n.Event; e != nil {
		s.id(&e.Href)
		s.id(&e.UID)
		s.text(&e.Summary)
		s.text(&e.Location)
	}
	if r := n.Reminder; r != nil {
		for _, p := range []*string{&r.Calendar, &r.Object, &r.UID, &r.RecurrenceID, &r.AlarmID, &r.Component, &r.Action, &r.TimeZone} {
			s.id(p)
		}
		s.text(&r.Text)
		s.text(&r.Description)
	}
	if u := n.Update; u != nil {
		for _, p := range []*string{&u.Component, &u.Action, &u.Object, &u.UID, &u.RecurrenceID, &u.TimeZone} {
			s.id(p)
		}
		s.person(&u.By)
		for i := range u.Fields {
			f := &u.Fields[i]
			s.id(&f.Field)
			s.text(&f.From)
			s.text(&f.To)
		}
	}
	for i := range n.Changes {
		ch := &n.Changes[i]
		s.id(&ch.Kind)
		s.id(&ch.Href)
		s.person(&ch.By)
		s.text(&ch.Summary)
		for j := range ch.Properties {
			s.text(&ch.Properties[j])
		}
	}
	for name, val := range n.Fields {
		if len(name) > MaxIDBytes {
			s.cut = true
			if s.apply {
				delete(n.Fields, name)
			}
			continue
		}
		if v := val; len(v) > s.max {
			s.text(&v)
			if s.apply {
				n.Fields[name] = v
			}
		}
	}
	return s.cut
}

// clone copies n deeply enough for [shortener.walk] to change the copy
// without touching n.
func clone(n *notifyd.Notification) *notifyd.Notification {
	c := *n
	if n.Event != nil {
		e := *n.Event
		c.Event = &e
	}
	if n.Reminder != nil {
		r := *n.Reminder
		c.Reminder = &r
	}
	if n.Update != nil {
		u := *n.Update
		u.Fields = append([]notifyd.FieldChange(nil), u.Fields...)
		c.Update = &u
	}
	if n.Changes != nil {
		c.Changes = make([]notifyd.Change, len(n.Changes))
		for i, ch := range n.Changes {
			ch.Properties = append([]string(nil), ch.Properties...)
			c.Changes[i] = ch
		}
	}
	if n.Fields != nil {
		c.Fields = make(map[string]string, len(n.Fields))
		for k, v := range n.Fields {
			c.Fields[k] = v
		}
	}
	return &c
}

// TextSize is the size of n's text in bytes: the sum of the lengths of
// its strings, what [ShortenedNote] reports as the notification's size.
func TextSize(n *notifyd.Notification) int {
	if n == nil {
		return 0
	}
	size := len(n.Element) + len(n.UID) + len(n.InReplyTo) + len(n.From.Href) + len(n.From.CommonName) +
		len(n.Calendar.Href) + len(n.Calendar.DisplayName) + len(n.Access) + len(n.Status) + len(n.Summary)
	if e := n.Event; e != nil {
		size += len(e.Href) + len(e.UID) + len(e.Summary) + len(e.Location)
	}
	if r := n.Reminder; r != nil {
		size += len(r.Calendar) + len(r.Object) + len(r.UID) + len(r.RecurrenceID) + len(r.AlarmID) +
			len(r.Component) + len(r.Action) + len(r.TimeZone) + len(r.Text) + len(r.Description)
	}
	if u := n.Update; u != nil {
		size += len(u.Component) + len(u.Action) + len(u.Object) + len(u.UID) + len(u.RecurrenceID) + len(u.TimeZone) +
			len(u.By.Href) + len(u.By.CommonName)
		for _, f := range u.Fields {
			size += len(f.Field) + len(f.From) + len(f.To)
		}
	}
	for _, ch := range n.Changes {
		size += len(ch.Kind) + len(ch.Href) + len(ch.By.Href) + len(ch.By.CommonName) + len(ch.Summary)
		for _, p := range ch.Properties {
			size += len(p)
		}
	}
	for k, v := range n.Fields {
		size += len(k) + len(v)
	}
	return size
}

// MostThatFit finds how many entries of a list a message can keep: the
// largest k in [0, most] for which fits(k) is true, or nearly (within an
// eighth of it: the search stops there to spare renderings), or -1 when
// not even fits(0) is; that k is the last one fits was true for, so a
// caller may keep what it made then. fits must be monotone (more entries,
// more output); its first error ends the search. Probes grow from 0 by doubling, so a
// list of thousands that fits a few dozen costs a dozen renderings, most
// of them small.
func MostThatFit(most int, fits func(k int) (bool, error)) (int, error) {
	lo, hi := -1, most+1 // fits(lo) is known true (-1: none), fits(hi) false (most+1: beyond)
	for k := 0; ; k = 2*k + 1 {
		k = min(k, most)
		ok, err := fits(k)
		if err != nil {
			return -1, err
		}
		if !ok {
			hi = k
			break
		}
		lo = k
		if k == most {
			return most, nil
		}
	}
	for hi-lo > 1 && hi-lo > lo/8 {
		mid := lo + (hi-lo)/2
		ok, err := fits(mid)
		if err != nil {
			return -1, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
