package caldavclient

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// XML namespaces.
const (
	nsDAV    = "DAV:"
	nsCS     = "http://calendarserver.org/ns/"
	nsCalDAV = "urn:ietf:params:xml:ns:caldav"
	nsApple  = "http://apple.com/ns/ical/"
)

// Bounds on a multistatus (the answer to a PROPFIND or REPORT), so that a
// hostile or broken server cannot make parsing it costly. Depth and
// elements are bounded as in a notification body (package notification):
// 64 levels, 10000 elements in one DAV:response and 10000 outside any.
// The body itself is bounded by Config.MaxResponseBytes, and a Depth 0
// PROPFIND's answer by maxPropfindBytes.
const (
	maxXMLDepth         = 64
	maxResponseElements = 10000
	maxOuterElements    = 10000
	// maxResponses bounds the DAV:response elements of one answer: a
	// sync answer has one per changed member (a few hundred bytes each,
	// so a 10 MiB answer holds fewer than 100000).
	maxResponses = 100000
	// maxPropfindBytes caps the answer to a Depth 0 PROPFIND (a few
	// properties of one resource: a few kilobytes).
	maxPropfindBytes = 1 << 20
	// maxPropText bounds a short text property (DAV:sync-token,
	// CS:getctag, CALDAV:calendar-timezone-id): a few dozen bytes in
	// practice.
	maxPropText = 8 << 10
	// maxTimezoneBytes bounds a CALDAV:calendar-timezone: one VTIMEZONE,
	// a few kilobytes even with every historical rule.
	maxTimezoneBytes = 256 << 10
	// defaultMaxObjectBytes bounds one calendar object's
	// CALDAV:calendar-data (MultiGet): an event or task with a long
	// description and many overrides is tens of kilobytes; one over 1 MiB
	// carries inline attachments, and is reported as too large rather
	// than kept in memory.
	defaultMaxObjectBytes = 1 << 20
)

// undeclaredPrefixes maps the prefixes servers use without declaring them
// (Cyrus writes <CS:notification/> into resourcetype with no xmlns:CS when
// the request did not declare it) to their usual namespaces. A declared
// prefix has already been replaced by its namespace URI when these apply.
var undeclaredPrefixes = map[string]string{
	"D":  nsDAV,
	"d":  nsDAV,
	"CS": nsCS,
	"cs": nsCS,
	"C":  nsCalDAV,
	"c":  nsCalDAV,
}

// charsetReader accepts the few non-UTF-8 encodings a server might declare.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(data))
		for _, b := range data {
			out = utf8.AppendRune(out, rune(b))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// xmlReader reads the tokens of a server's XML body with its bounds:
// elements nested at most maxXMLDepth deep, at most budget elements (the
// caller sets it per part), and no DOCTYPE or other directive. It matches
// elements by namespace URI and gives undeclared well-known prefixes their
// usual namespace.
type xmlReader struct {
	d      *xml.Decoder
	depth  int
	budget int
	// limit and what describe the budget's bound for the error.
	limit int
	what  string
	// dataLimit bounds a CALDAV:calendar-data value (textCapped).
	dataLimit int
}

// newXMLReader returns a reader of r (a UTF-8 byte order mark is skipped).
func newXMLReader(r io.Reader) *xmlReader {
	br := bufio.NewReaderSize(r, 1024)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
	d := xml.NewDecoder(br)
	d.Strict = true
	d.CharsetReader = charsetReader
	return &xmlReader{d: d}
}

// limited sets the element budget of the next part: n elements of a
// bound of limit, described by what.
func (x *xmlReader) limited(n, limit int, what string) { x.budget, x.limit, x.what = n, limit, what }

// next returns the next token. Character data is only valid until the
// following call.
func (x *xmlReader) next() (xml.Token, error) {
	tok, err := x.d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		x.depth++
		if x.depth > maxXMLDepth {
			return nil, protoErrorf("XML elements nested deeper than %d levels", maxXMLDepth)
		}
		if x.budget--; x.budget < 0 {
			return nil, protoErrorf("more than %d XML elements %s", x.limit, x.what)
		}
		if ns, ok := undeclaredPrefixes[t.Name.Space]; ok {
			t.Name.Space = ns
			return t, nil
		}
	case xml.EndElement:
		x.depth--
	case xml.Directive:
		return nil, protoErrorf("DOCTYPE and other <!...> declarations are not allowed")
	}
	return tok, nil
}

// skip reads up to the end of the element whose start was just read.
func (x *xmlReader) skip() error {
	for depth := 1; depth > 0; {
		tok, err := x.next()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text reads up to the end of the element whose start was just read and
// returns its own character data (that of child elements is skipped).
func (x *xmlReader) text() (string, error) {
	var buf []byte
	for {
		tok, err := x.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			buf = append(buf, t...)
		case xml.StartElement:
			if err := x.skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return string(buf), nil
		}
	}
}

// textCapped is text for a value of at most limit bytes (no bound when
// limit < 0): the character data of a longer one is read to the end of
// the element but not kept, and over is true.
func (x *xmlReader) textCapped(limit int) (s string, over bool, err error) {
	if limit < 0 {
		s, err = x.text()
		return s, false, err
	}
	var buf []byte
	for {
		tok, err := x.next()
		if err != nil {
			return "", false, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if !over && len(buf)+len(t) > limit {
				over, buf = true, nil
			}
			if !over {
				buf = append(buf, t...)
			}
		case xml.StartElement:
			if err := x.skip(); err != nil {
				return "", false, err
			}
		case xml.EndElement:
			if over {
				return "", true, nil
			}
			return string(buf), false, nil
		}
	}
}

// children calls f for each child element of the element whose start was
// just read, up to its end; f must read the child to its end.
func (x *xmlReader) children(f func(xml.StartElement) error) error {
	for {
		tok, err := x.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := f(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// root reads up to the root element and checks that it is space:local.
func (x *xmlReader) root(space, local string) error {
	for {
		tok, err := x.next()
		if err == io.EOF {
			return protoErrorf("no XML element in the body")
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != space || t.Name.Local != local {
				return protoErrorf("the root element is {%s}%s, not {%s}%s", t.Name.Space, t.Name.Local, space, local)
			}
			return nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return protoErrorf("text outside of any XML element")
			}
		}
	}
}

// escapeText returns s escaped for XML character data.
func escapeText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
