package engine

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Bounds of an XML payload, whatever its size (the API caps that): as
// the CalDAV client reads a server's XML (caldavclient/xml.go), no DOCTYPE
// or other directive, elements nested at most 32 deep, at most 20000 of
// them.
const (
	maxPayloadXMLDepth    = 32
	maxPayloadXMLElements = 20000
)

// xmlNode is one element of an XML payload.
type xmlNode struct {
	name     string // local name, lower case
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder
}

// readXMLTree reads data into a tree, within the bounds above.
func readXMLTree(data []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("declares the encoding %q; the payload is a JSON string, so UTF-8", label)
	}
	var root *xmlNode
	var stack []*xmlNode
	elements := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if elements++; elements > maxPayloadXMLElements {
				return nil, fmt.Errorf("more than %d elements", maxPayloadXMLElements)
			}
			if len(stack) == maxPayloadXMLDepth {
				return nil, fmt.Errorf("elements nested deeper than %d levels", maxPayloadXMLDepth)
			}
			n := &xmlNode{name: strings.ToLower(t.Name.Local), attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				top := stack[len(stack)-1]
				top.children = append(top.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		case xml.Directive:
			return nil, errors.New("DOCTYPE and other <!...> declarations are not allowed")
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// Component element names: xCal's (RFC 6321: vevent, …) and Sun's
// iCalendar XML (WCAP: EVENT, TODO, …), by lower-case local name.
var xmlComponents = map[string]string{
	"vevent": "VEVENT", "event": "VEVENT",
	"vtodo": "VTODO", "todo": "VTODO",
	"valarm": "VALARM", "alarm": "VALARM",
	"vtimezone": "VTIMEZONE", "timezone": "VTIMEZONE",
	"standard": "STANDARD", "daylight": "DAYLIGHT",
}

// xmlContainers hold components without being one: the document and
// calendar elements of both formats.
var xmlContainers = map[string]bool{"icalendar": true, "vcalendar": true, "ical": true, "components": true}

// sunNames are the property names of Sun's iCalendar XML that iCalendar
// spells otherwise.
var sunNames = map[string]string{"START": "DTSTART", "END": "DTEND"}

// structuredProps are the properties whose values are not TEXT: written
// as they are (no TEXT escaping), they must hold no line break.
var structuredProps = map[string]bool{
	"DTSTART": true, "DTEND": true, "DUE": true, "RECURRENCE-ID": true, "EXDATE": true, "RDATE": true,
	"RRULE": true, "EXRULE": true, "DTSTAMP": true, "CREATED": true, "LAST-MODIFIED": true, "COMPLETED": true,
	"TRIGGER": true, "DURATION": true, "REPEAT": true, "ATTENDEE": true, "ORGANIZER": true, "STATUS": true,
	"SEQUENCE": true, "PRIORITY": true, "PERCENT-COMPLETE": true, "TZOFFSETFROM": true, "TZOFFSETTO": true,
	"ACKNOWLEDGED": true, "URL": true, "GEO": true, "TRANSP": true, "CLASS": true, "ACTION": true,
}

var (
	icalName     = regexp.MustCompile(`^[A-Z0-9-]{1,64}$`)
	extendedTime = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z?))?$`)
	utcOffset    = regexp.MustCompile(`^([+-]\d{2}):(\d{2})$`)
)

// xmlToICalendar turns a calendar in XML, xCal (RFC 6321) or Sun's
// iCalendar XML (what Calendar Server's ENS publishes as text/xml), into
// iCalendar text for calendar.Parse: each event, task, alarm and time zone
// with its properties and parameters. It reads the XML safely (no DTD,
// bounded), and writes no value that could start a line of its own.
func xmlToICalendar(data []byte) ([]byte, error) {
	root, err := readXMLTree(data)
	if err != nil {
		return nil, err
	}
	w := &icalWriter{}
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//notifyd//published XML//EN")
	var walk func(n *xmlNode)
	walk = func(n *xmlNode) {
		if name, ok := xmlComponents[n.name]; ok {
			w.component(n, name)
			return
		}
		if xmlContainers[n.name] {
			for _, c := range n.children {
				walk(c)
			}
		}
	}
	walk(root)
	if w.err != nil {
		return nil, w.err
	}
	if w.components == 0 {
		return nil, fmt.Errorf("no event or task: the root element <%s> holds no vevent/EVENT or vtodo/TODO", root.name)
	}
	w.line("END:VCALENDAR")
	return w.b.Bytes(), nil
}

// icalWriter writes iCalendar content lines.
type icalWriter struct {
	b          bytes.Buffer
	components int
	err        error
}

func (w *icalWriter) line(s string) { w.b.WriteString(s); w.b.WriteString("\r\n") }

func (w *icalWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// component writes n, a component named name, with its properties and
// subcomponents (xCal groups them in <properties> and <components>; Sun's
// format nests them directly).
func (w *icalWriter) component(n *xmlNode, name string) {
	if name == "VEVENT" || name == "VTODO" {
		w.components++
	}
	w.line("BEGIN:" + name)
	for _, c := range n.children {
		switch {
		case c.name == "properties":
			for _, p := range c.children {
				w.property(p, name)
			}
		case c.name == "components":
			for _, sub := range c.children {
				if subName, ok := xmlComponents[sub.name]; ok {
					w.component(sub, subName)
				}
			}
		case xmlComponents[c.name] != "":
			w.component(c, xmlComponents[c.name])
		default:
			w.property(c, name)
		}
	}
	w.line("END:" + name)
}

// property writes one property element of component comp: its name, its
// parameters (xCal's <parameters>, or the element's attributes in Sun's
// format) and its value (xCal's typed value elements, else its text).
func (w *icalWriter) property(n *xmlNode, comp string) {
	name := strings.ToUpper(n.name)
	if sun, ok := sunNames[name]; ok && comp != "VTIMEZONE" {
		name = sun
	}
	if !icalName.MatchString(name) || name == "BEGIN" || name == "END" {
		w.fail("the element <%s> of a %s is not a property name", n.name, comp)
		return
	}
	var params []string
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		params = appendParam(params, strings.ToUpper(a.Name.Local), a.Value)
	}
	var values []string
	date := false
	for _, c := range n.children {
		if c.name == "parameters" {
			for _, p := range c.children {
				params = appendParam(params, strings.ToUpper(p.name), valueText(p))
			}
			continue
		}
		v, isDate := typedValue(c)
		date = date || isDate
		values = append(values, v)
	}
	if len(values) == 0 {
		values = []string{strings.TrimSpace(n.text.String())}
	}
	if date {
		params = appendParam(params, "VALUE", "DATE")
	}
	for i, v := range values {
		if !structuredProps[name] {
			values[i] = escapeText(v)
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			w.fail("the %s of a %s has a line break", name, comp)
			return
		}
		values[i] = basicTime(v)
	}
	w.line(name + strings.Join(params, "") + ":" + strings.Join(values, ","))
}

// appendParam adds ";NAME=value" to params, quoted when value needs it;
// a parameter with a bad name, a double quote or a control character in
// its value is left out (it cannot be written safely).
func appendParam(params []string, name, value string) []string {
	if !icalName.MatchString(name) || strings.ContainsAny(value, "\"\r\n\x00") {
		return params
	}
	if strings.ContainsAny(value, ";:,") {
		value = `"` + value + `"`
	}
	return append(params, ";"+name+"="+value)
}

// valueText is the value of an xCal parameter: the text of its value
// element (<text>, <cal-address>, …), else its own text.
func valueText(n *xmlNode) string {
	if len(n.children) > 0 {
		v, _ := typedValue(n.children[0])
		return v
	}
	return strings.TrimSpace(n.text.String())
}

// typedValue is the iCalendar text of one xCal value element, and
// whether it is a DATE.
func typedValue(n *xmlNode) (string, bool) {
	text := strings.TrimSpace(n.text.String())
	switch n.name {
	case "date":
		return basicTime(text), true
	case "date-time", "until":
		return basicTime(text), false
	case "utc-offset":
		return utcOffset.ReplaceAllString(text, "$1$2"), false
	case "period":
		var parts []string
		for _, c := range n.children {
			v, _ := typedValue(c)
			parts = append(parts, v)
		}
		return strings.Join(parts, "/"), false
	case "recur":
		// Each rule part is an element (<freq>, <byday>…); repeated
		// parts make one comma-separated list.
		var order []string
		parts := map[string][]string{}
		for _, c := range n.children {
			key := strings.ToUpper(c.name)
			if _, seen := parts[key]; !seen {
				order = append(order, key)
			}
			v, _ := typedValue(c)
			parts[key] = append(parts[key], v)
		}
		var rule []string
		for _, k := range order {
			rule = append(rule, k+"="+strings.Join(parts[k], ","))
		}
		return strings.Join(rule, ";"), false
	}
	return text, false
}

// basicTime writes an RFC 6321 date or date-time ("2026-12-01",
// "2026-12-01T09:00:00Z") in iCalendar's basic form; anything else is
// returned as it is.
func basicTime(s string) string {
	m := extendedTime.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	if m[4] == "" {
		return m[1] + m[2] + m[3]
	}
	return m[1] + m[2] + m[3] + "T" + m[4] + m[5] + m[6] + m[7]
}

// escapeText escapes a TEXT value (RFC 5545 section 3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}
