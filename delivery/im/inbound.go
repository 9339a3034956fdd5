package im

import (
	"fmt"

	xmpp "github.com/xmppo/go-xmpp"

	"github.com/notifyd/notifyd/delivery"
)

// handle takes one stanza the session s received (on its reader's
// goroutine): it updates the roster or the messages awaiting
// confirmation, and answers when needed.
func (c *Channel) handle(s *session, st any) {
	if !c.link.current(s) {
		return // a session that ended; the next one starts afresh
	}
	var out []string
	switch v := st.(type) {
	case xmpp.Presence:
		out = c.book.presence(s.id, v.From, v.Type)
	case xmpp.IQ:
		out = c.onIQ(s, v)
	case xmpp.Chat:
		c.onChat(s, v)
	}
	s.enqueueAll(c.ctx, out)
}

// fromServer reports whether a stanza from from comes from notifyd's
// server or account (the roster, roster pushes, the answers to pings),
// not from a contact.
func (c *Channel) fromServer(from string) bool {
	key := bareKey(from)
	return key == "" || key == c.bareKey || key == c.domain
}

func (c *Channel) onIQ(s *session, iq xmpp.IQ) []string {
	switch iq.Type {
	case "result", "error":
		if !c.fromServer(iq.From) {
			return nil // an answer to nothing notifyd asked
		}
		if iq.ID == s.rosterID() {
			var items []rosterItem
			usable := false
			if iq.Type == "error" {
				c.log.Warn("im: the XMPP server refused to send the roster")
			} else if parsed, ok, err := parseRoster(iq.Query); err != nil || !ok {
				c.log.Warn("im: unreadable roster", "err", err)
			} else {
				items, usable = parsed, true
			}
			if out, ok := c.book.loggedIn(s.id, items, usable); ok {
				return out
			}
		}
		s.acks.confirm(iq.ID) // the server has handled the message before
	case "set":
		if items, ok, _ := parseRoster(iq.Query); ok && (iq.From == "" || bareKey(iq.From) == c.bareKey) {
			c.book.pushed(s.id, items)
			return []string{iqResult(iq.ID, iq.From)}
		}
		return []string{iqUnsupported(iq.ID, iq.From)}
	case "get":
		return []string{iqUnsupported(iq.ID, iq.From)}
	}
	return nil
}

// onChat takes a message: an error is the server refusing the oldest
// message awaiting confirmation to its sender.
func (c *Channel) onChat(s *session, m xmpp.Chat) {
	if m.Type != "error" {
		return // people may write to notifyd; nobody reads it
	}
	typ, cond, text := "", "", ""
	for _, e := range m.OtherElem {
		if e.XMLName.Local == "error" {
			typ, cond, text = stanzaError(e.Attr, e.InnerXML)
		}
	}
	if cond == "" {
		cond = "undefined-condition"
	}
	if text != "" {
		cond += ": " + clean.Line(text)
	}
	err := fmt.Errorf("im: the XMPP server refused the message to %s (%s)", bareKey(m.Remote), cond)
	if typ == "wait" {
		err = delivery.Temporary(err, 0)
	}
	if !s.acks.bounce(bareKey(m.Remote), err) {
		c.log.Warn("im: a message bounced", "err", err)
	}
}
