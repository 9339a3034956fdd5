package im

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// CalendarNS is the namespace of the element that carries a message's
// iCalendar object beside its body:
//
//	<calendar xmlns="urn:notifyd:calendar:0" type="text/calendar">BEGIN:VCALENDAR…</calendar>
//
// Its text is the iCalendar object (RFC 5545), CRLF line ends written as
// character references; a server that passes the CRs on unescaped (Prosody
// does) makes them arrive as LF alone, which iCalendar parsers accept.
const CalendarNS = "urn:notifyd:calendar:0"

// Namespaces of the stanzas the channel writes and reads.
const (
	nsRoster = "jabber:iq:roster"
	nsPing   = "urn:xmpp:ping"
	nsHints  = "urn:xmpp:hints"
	nsStanza = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// esc escapes s for XML text and attribute values (both quotes included);
// characters XML cannot carry become U+FFFD.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// messageStanza writes m as a chat message. hint is a XEP-0334 processing
// hint ("store", "no-store") or "".
func messageStanza(m *Message, hint string) string {
	var b strings.Builder
	b.WriteString("<message type='chat' to='" + esc(m.To) + "' id='" + esc(m.ID) + "'")
	if m.Lang != "" {
		b.WriteString(" xml:lang='" + esc(m.Lang) + "'")
	}
	b.WriteString("><body>" + esc(m.Body) + "</body>")
	if m.Calendar != "" {
		b.WriteString("<calendar xmlns='" + CalendarNS + "' type='text/calendar'>" + esc(m.Calendar) + "</calendar>")
	}
	if hint != "" {
		b.WriteString("<" + hint + " xmlns='" + nsHints + "'/>")
	}
	b.WriteString("</message>")
	return b.String()
}

// presenceStanza writes a presence of type typ ("subscribe", "subscribed",
// "unavailable", …) to jid ("" for a broadcast).
func presenceStanza(to, typ string) string {
	s := "<presence"
	if to != "" {
		s += " to='" + esc(to) + "'"
	}
	if typ != "" {
		s += " type='" + esc(typ) + "'"
	}
	return s + "/>"
}

// rosterGet asks for the roster.
func rosterGet(id string) string {
	return "<iq type='get' id='" + esc(id) + "'><query xmlns='" + nsRoster + "'/></iq>"
}

// pingStanza is a XEP-0199 ping to the server.
func pingStanza(id, to string) string {
	return "<iq type='get' id='" + esc(id) + "' to='" + esc(to) + "'><ping xmlns='" + nsPing + "'/></iq>"
}

// iqResult acknowledges an IQ set (a roster push).
func iqResult(id, to string) string {
	s := "<iq type='result' id='" + esc(id) + "'"
	if to != "" {
		s += " to='" + esc(to) + "'"
	}
	return s + "/>"
}

// iqUnsupported answers an IQ request the channel does not handle.
func iqUnsupported(id, to string) string {
	s := "<iq type='error' id='" + esc(id) + "'"
	if to != "" {
		s += " to='" + esc(to) + "'"
	}
	return s + "><error type='cancel'><service-unavailable xmlns='" + nsStanza + "'/></error></iq>"
}

// rosterItem is one contact of a roster result or push.
type rosterItem struct {
	JID          string
	Subscription string // none, to, from, both, remove
	Ask          bool   // a subscription request of ours is pending
}

// parseRoster reads the items of a jabber:iq:roster query; ok is false
// when query is not one.
func parseRoster(query []byte) (items []rosterItem, ok bool, err error) {
	d := xml.NewDecoder(bytes.NewReader(query))
	d.Strict = false
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return items, ok, nil
		}
		if err != nil {
			return items, ok, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "query" || !(t.Name.Space == nsRoster || attr(t, "xmlns") == nsRoster) {
					return nil, false, nil
				}
				ok = true
			}
			if depth == 2 && t.Name.Local == "item" {
				items = append(items, rosterItem{
					JID:          attr(t, "jid"),
					Subscription: strings.ToLower(attr(t, "subscription")),
					Ask:          attr(t, "ask") == "subscribe",
				})
			}
		case xml.EndElement:
			depth--
		}
	}
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || local == "xmlns") {
			return a.Value
		}
	}
	return ""
}

// stanzaError reads an <error/> element's type and condition from its
// attributes and inner XML.
func stanzaError(attrs []xml.Attr, inner string) (typ, condition, text string) {
	for _, a := range attrs {
		if a.Name.Local == "type" {
			typ = a.Value
		}
	}
	d := xml.NewDecoder(strings.NewReader(inner))
	d.Strict = false
	inText := false
	for {
		tok, err := d.Token()
		if err != nil {
			return typ, condition, text
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "text" {
				inText = true
			} else if condition == "" {
				condition = t.Name.Local
			}
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				text += string(t)
			}
		}
	}
}
