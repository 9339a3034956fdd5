package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-ical"
)

// versionOf is the identity of the version a payload publishes (ics, its
// iCalendar, XML already turned into it), for the topics the same
// component is published on again and again as news (Topic.repeats): a
// digest of the payload as parsed, not as written. A publisher that
// sends the same version again, serialised anew, publishes the same
// version: line folding, CRLF or LF, the order of properties, of
// parameters, of parameter values and of components, the case of names
// and DTSTAMP (which a server may stamp anew each time it writes an
// object out) and PRODID (the writer's name) do not count. Any other
// change does: SEQUENCE and LAST-MODIFIED, which a server changes with
// each edit, and whatever the edit changed. ics must be iCalendar
// calendar.Parse read; should it not decode, its bytes are the version.
func versionOf(ics []byte) string {
	var canon []byte
	cal, err := decodeICalendar(ics)
	if err == nil {
		canon = []byte(canonicalComponent(cal.Component))
	} else {
		canon = append([]byte("raw\x00"), ics...)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:16])
}

// decodeICalendar decodes ics, turning a go-ical panic into an error.
func decodeICalendar(ics []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if p := recover(); p != nil {
			cal, err = nil, errPanicked
		}
	}()
	return ical.NewDecoder(bytes.NewReader(ics)).Decode()
}

var errPanicked = errors.New("go-ical panicked")

// versionless are the properties versionOf leaves out.
var versionless = map[string]bool{ical.PropDateTimeStamp: true, ical.PropProductID: true}

// canonicalComponent writes c in one way whatever the order it was
// written in: its name, its properties sorted, its children sorted, each
// part length-prefixed so that no value can pass for a separator.
func canonicalComponent(c *ical.Component) string {
	var props []string
	for name, ps := range c.Props {
		name = strings.ToUpper(name)
		if versionless[name] {
			continue
		}
		for _, p := range ps {
			props = append(props, canonicalProp(name, &p))
		}
	}
	slices.Sort(props)
	children := make([]string, len(c.Children))
	for i, ch := range c.Children {
		children[i] = canonicalComponent(ch)
	}
	slices.Sort(children)
	var b strings.Builder
	part(&b, "C", strings.ToUpper(c.Name))
	for _, p := range props {
		part(&b, "P", p)
	}
	for _, ch := range children {
		part(&b, "K", ch)
	}
	return b.String()
}

// canonicalProp writes a property: its name, parameters sorted by name
// with their values sorted, and its value.
func canonicalProp(name string, p *ical.Prop) string {
	var params []string
	for k, vs := range p.Params {
		vs = slices.Clone(vs)
		slices.Sort(vs)
		var b strings.Builder
		part(&b, "N", strings.ToUpper(k))
		for _, v := range vs {
			part(&b, "V", v)
		}
		params = append(params, b.String())
	}
	slices.Sort(params)
	var b strings.Builder
	part(&b, "N", name)
	for _, p := range params {
		part(&b, "A", p)
	}
	part(&b, "V", p.Value)
	return b.String()
}

// part appends tag, s's length and s.
func part(b *strings.Builder, tag, s string) {
	b.WriteString(tag)
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}
