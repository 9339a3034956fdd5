package notification

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The namespaces notifications are written in.
const (
	nsCS       = "http://calendarserver.org/ns/"
	nsDAV      = "DAV:"
	nsBedework = "http://bedework.org/ns/"
	nsCalDAV   = "urn:ietf:params:xml:ns:caldav"
)

// Bounds on the XML a body may hold, so that hostile input stays cheap.
const (
	maxElements = 10000
	maxDepth    = 64
)

// conventionalPrefixes maps prefixes servers use without declaring them to
// the namespaces they conventionally stand for. encoding/xml leaves an
// undeclared prefix in Name.Space, so a Space equal to one of these keys
// means the prefix was used without a declaration (Cyrus emits CS: that way;
// Bedework writes DAV:, CSS:, BW: and BSS:).
var conventionalPrefixes = map[string]string{
	"CS":  nsCS,
	"cs":  nsCS,
	"CSS": nsCS,
	"D":   nsDAV,
	"d":   nsDAV,
	"DAV": nsDAV,
	"BW":  nsBedework,
	"bw":  nsBedework,
	"BSS": nsBedework,
	"C":   nsCalDAV,
	"c":   nsCalDAV,
}

// node is one element of a parsed body.
type node struct {
	space, local string
	attrs        []xml.Attr
	// text is the element's own character data, whitespace trimmed.
	text     string
	children []*node
	// buf collects character data until the element ends.
	buf []byte
}

// name is the element's name in Clark notation: "{namespace}local", or
// just "local" when it has no namespace.
func (n *node) name() string {
	if n.space == "" {
		return n.local
	}
	return "{" + n.space + "}" + n.local
}

// is reports whether n is the element local in namespace space.
func (n *node) is(space, local string) bool {
	return n != nil && n.local == local && n.space == space
}

// inKnownSpace reports whether n is in one of the namespaces notification
// elements are written in. Servers disagree on which of them a given child
// element uses (CalendarServer writes CS:uid, the DAV sharing draft DAV:uid,
// Bedework mixes CS:, DAV: and its own), so children are looked up by local
// name in any of them, while elements of other namespaces (CalDAV, vendor
// extensions) never match.
func (n *node) inKnownSpace() bool {
	return n.space == nsCS || n.space == nsDAV || n.space == nsBedework
}

// child returns n's first child element with the given local name in a
// known namespace, or nil. It is nil-safe.
func (n *node) child(local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.local == local && c.inKnownSpace() {
			return c
		}
	}
	return nil
}

// childIn returns n's first child element local in namespace space, or nil.
func (n *node) childIn(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.is(space, local) {
			return c
		}
	}
	return nil
}

// textOf returns the trimmed text of n, or "" for nil.
func (n *node) textOf() string {
	if n == nil {
		return ""
	}
	return n.text
}

// childText returns the text of n's first child local.
func (n *node) childText(local string) string {
	return n.child(local).textOf()
}

// attr returns the value of n's unqualified attribute local, trimmed.
func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// parseTree parses body into a tree of elements, refusing DOCTYPEs and
// other directives, bodies of more than maxElements elements or nested
// deeper than maxDepth, and anything that is not one well-formed element.
// Reading stops at the end of the root element.
func parseTree(body []byte) (*node, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = charsetReader
	var (
		root     *node
		stack    []*node
		elements int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxElements {
				return nil, fmt.Errorf("more than %d XML elements", maxElements)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("XML elements nested deeper than %d levels", maxDepth)
			}
			n := &node{space: resolveSpace(t.Name.Space), local: t.Name.Local}
			if len(t.Attr) > 0 {
				n.attrs = t.Attr
			}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.buf) > 0 {
				n.text = string(bytes.TrimSpace(n.buf))
				n.buf = nil
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("not XML: text outside of any element")
				}
				continue
			}
			n := stack[len(stack)-1]
			// Whitespace before any text (indentation between child
			// elements) is dropped here; the rest is trimmed at the end.
			if len(n.buf) == 0 && len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			n.buf = append(n.buf, t...)
		case xml.Directive:
			return nil, errors.New("DOCTYPE and other <!...> declarations are not allowed")
		}
	}
	if root == nil {
		return nil, errors.New("not XML: no element found")
	}
	// encoding/xml reports unclosed elements at EOF itself; this is a guard.
	return nil, errors.New("not well-formed XML: truncated")
}

// resolveSpace maps a conventional prefix left unresolved by encoding/xml to
// its namespace.
func resolveSpace(space string) string {
	if ns, ok := conventionalPrefixes[space]; ok {
		return ns
	}
	return space
}

// charsetReader lets bodies declare the single-byte charsets that map to
// Unicode without tables; encoding/xml itself reads only UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(io.LimitReader(input, MaxSize+1))
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}
