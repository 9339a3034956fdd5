package im

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	xmpp "github.com/xmppo/go-xmpp"

	"github.com/notifyd/notifyd/config"
)

// fakeServer is a scripted XMPP server for the channel's account: it
// keeps a roster, knows which contacts are online and how their clients
// answer a subscription request, answers pings, and records what the
// channel writes. It stands in for go-xmpp behind the xmppConn seam.
type fakeServer struct {
	mu       sync.Mutex
	roster   map[string]*fakeItem // the channel's roster, by bare JID
	online   map[string]bool      // contacts with an available resource
	approve  map[string]bool      // contacts whose client approves a subscription request
	decline  map[string]bool      // contacts whose client refuses it
	bounce   map[string]string    // contacts messages to whom bounce: error type "/" condition
	silent   bool                 // pings get no answer
	dialErr  error                // dialling fails
	gate     chan struct{}        // if set, dialling waits for it to close
	conn     *fakeConn            // the current connection
	conns    []*fakeConn          // every connection, in order
	dials    []time.Time          // when the channel dialled
	written  []string             // every stanza, in order
	messages []fakeMessage
	changed  chan struct{}
}

type fakeItem struct {
	sub         string
	ask         bool
	preapproved bool
}

// fakeMessage is a message the channel sent.
type fakeMessage struct {
	To, ID, Lang, Body, Calendar, Hint string
}

func newFakeServer() *fakeServer {
	return &fakeServer{roster: map[string]*fakeItem{}, online: map[string]bool{}, approve: map[string]bool{},
		decline: map[string]bool{}, bounce: map[string]string{}, changed: make(chan struct{})}
}

// fakeConn is one connection to a fakeServer.
type fakeConn struct {
	srv    *fakeServer
	in     chan any
	closed chan struct{}
	once   sync.Once
}

func (f *fakeConn) Recv() (any, error) {
	select {
	case st := <-f.in:
		return st, nil
	case <-f.closed:
		return nil, io.EOF
	}
}

func (f *fakeConn) SendOrg(s string) (int, error) {
	select {
	case <-f.closed:
		return 0, errors.New("use of closed connection")
	default:
	}
	f.srv.handle(f, s)
	return len(s), nil
}

func (f *fakeConn) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// push queues a stanza for the channel (without blocking the server).
func (f *fakeConn) push(st any) {
	select {
	case f.in <- st:
	case <-f.closed:
	}
}

// dial is the channel's dialFunc: like a real server, it answers the
// probes of the initial presence (the visible contacts' presence) before
// anything else.
func (s *fakeServer) dial(ctx context.Context) (xmppConn, error) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dials = append(s.dials, time.Now())
	if s.dialErr != nil {
		return nil, s.dialErr
	}
	c := &fakeConn{srv: s, in: make(chan any, 1000), closed: make(chan struct{})}
	s.conn = c
	s.conns = append(s.conns, c)
	for jid, it := range s.roster {
		if it.sub == "to" || it.sub == "both" {
			c.in <- s.presenceOf(jid)
		}
	}
	s.notifyLocked()
	return c, nil
}

func (s *fakeServer) presenceOf(jid string) xmpp.Presence {
	if s.online[jid] {
		return xmpp.Presence{From: jid + "/phone", To: "notifyd@example.org"}
	}
	return xmpp.Presence{From: jid, To: "notifyd@example.org", Type: "unavailable"}
}

func (s *fakeServer) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// stanza is what the fake reads of a stanza the channel wrote.
type stanza struct {
	XMLName  xml.Name
	To       string `xml:"to,attr"`
	Type     string `xml:"type,attr"`
	ID       string `xml:"id,attr"`
	Lang     string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Body     string `xml:"body"`
	Calendar struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"urn:notifyd:calendar:0 calendar"`
	Store   *struct{} `xml:"urn:xmpp:hints store"`
	NoStore *struct{} `xml:"urn:xmpp:hints no-store"`
	Query   *struct {
		XMLName xml.Name
	} `xml:"jabber:iq:roster query"`
	Ping *struct{} `xml:"urn:xmpp:ping ping"`
}

func (s *fakeServer) handle(c *fakeConn, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = append(s.written, raw)
	defer s.notifyLocked()
	if raw == "</stream:stream>" {
		c.Close()
		return
	}
	var st stanza
	if err := xml.Unmarshal([]byte(raw), &st); err != nil {
		panic(fmt.Sprintf("fake XMPP server: the channel wrote bad XML: %v\n%s", err, raw))
	}
	switch st.XMLName.Local {
	case "iq":
		switch {
		case st.Type == "get" && st.Query != nil:
			var b strings.Builder
			b.WriteString("<query xmlns=\"jabber:iq:roster\" xmlns=\"jabber:iq:roster\">")
			for jid, it := range s.roster {
				ask := ""
				if it.ask {
					ask = ` ask="subscribe"`
				}
				fmt.Fprintf(&b, `<item jid="%s" subscription="%s"%s/>`, jid, it.sub, ask)
			}
			b.WriteString("</query>")
			c.push(xmpp.IQ{ID: st.ID, Type: "result", Query: []byte(b.String())})
		case st.Type == "get" && st.Ping != nil:
			if !s.silent {
				c.push(xmpp.IQ{ID: st.ID, From: "example.org", Type: "result"})
			}
		}
	case "presence":
		s.onPresence(c, st)
	case "message":
		m := fakeMessage{To: st.To, ID: st.ID, Lang: st.Lang, Body: st.Body, Calendar: st.Calendar.Text}
		if st.Store != nil {
			m.Hint = "store"
		}
		if st.NoStore != nil {
			m.Hint = "no-store"
		}
		s.messages = append(s.messages, m)
		if b := s.bounce[bareKey(st.To)]; b != "" {
			typ, cond, _ := strings.Cut(b, "/")
			c.push(xmpp.Chat{Remote: bareKey(st.To), Type: "error", OtherElem: []xmpp.XMLElement{{
				XMLName:  xml.Name{Space: "jabber:client", Local: "error"},
				Attr:     []xml.Attr{{Name: xml.Name{Local: "type"}, Value: typ}},
				InnerXML: "<" + cond + " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>",
			}}})
		}
	}
}

func (s *fakeServer) item(jid string) *fakeItem {
	it := s.roster[jid]
	if it == nil {
		it = &fakeItem{sub: "none"}
		s.roster[jid] = it
	}
	return it
}

func (s *fakeServer) rosterPush(c *fakeConn, jid string) {
	it := s.roster[jid]
	ask := ""
	if it.ask {
		ask = ` ask="subscribe"`
	}
	c.push(xmpp.IQ{ID: "push-" + jid, Type: "set",
		Query: []byte(fmt.Sprintf(`<query xmlns="jabber:iq:roster"><item jid="%s" subscription="%s"%s/></query>`, jid, it.sub, ask))})
}

func (s *fakeServer) onPresence(c *fakeConn, st stanza) {
	to := bareKey(st.To)
	switch st.Type {
	case "subscribe":
		it := s.item(to)
		if it.sub == "to" || it.sub == "both" {
			return
		}
		switch {
		case s.approve[to]:
			it.ask = false
			if it.sub == "from" {
				it.sub = "both"
			} else {
				it.sub = "to"
			}
			c.push(xmpp.Presence{From: to, Type: "subscribed"})
			s.rosterPush(c, to)
			if s.online[to] {
				c.push(xmpp.Presence{From: to + "/phone"})
			}
		case s.decline[to]:
			c.push(xmpp.Presence{From: to, Type: "unsubscribed"})
		default:
			it.ask = true
			s.rosterPush(c, to)
			c.push(xmpp.Presence{From: to, Type: "unavailable"}) // Prosody's acknowledgement
		}
	case "subscribed":
		s.item(to).preapproved = true
	}
}

// setOnline changes a contact's presence; the channel hears of it when it
// sees the contact's presence.
func (s *fakeServer) setOnline(jid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.online[jid] = on
	it := s.roster[jid]
	if s.conn != nil && it != nil && (it.sub == "to" || it.sub == "both") {
		p := xmpp.Presence{From: jid + "/phone"}
		if !on {
			p.Type = "unavailable"
		}
		s.conn.push(p)
	}
}

// drop closes the current connection, as a server that goes away.
func (s *fakeServer) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
	}
}

// sent returns the messages the channel sent.
func (s *fakeServer) sent() []fakeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeMessage(nil), s.messages...)
}

// wrote reports how many stanzas the channel wrote that contain all of
// parts.
func (s *fakeServer) wrote(parts ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
outer:
	for _, w := range s.written {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				continue outer
			}
		}
		n++
	}
	return n
}

// waitWrote waits until the channel is idle (in a synctest bubble), and
// checks that it wrote a stanza with all of parts.
func (s *fakeServer) waitWrote(t *testing.T, parts ...string) {
	t.Helper()
	synctest.Wait()
	if s.wrote(parts...) == 0 {
		s.mu.Lock()
		written := strings.Join(s.written, "\n")
		s.mu.Unlock()
		t.Fatalf("the channel wrote no stanza with %q; it wrote:\n%s", parts, written)
	}
}

// waitFor blocks until the channel wrote a stanza with all of parts.
func (s *fakeServer) waitFor(parts ...string) {
	for s.wrote(parts...) == 0 {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.wrote(parts...) != 0 {
			return
		}
		<-ch
	}
}

// parseStanza reads a stanza the channel wrote.
func parseStanza(raw string) (stanza, bool) {
	var st stanza
	err := xml.Unmarshal([]byte(raw), &st)
	return st, err == nil
}

// dialled returns when the channel dialled.
func (s *fakeServer) dialled() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.dials...)
}

// isClosed reports whether connection i (from 0) is closed.
func (s *fakeServer) isClosed(i int) bool {
	s.mu.Lock()
	c := s.conns[i]
	s.mu.Unlock()
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// fakeChannel returns a started channel talking to srv, with short
// timings (tweak adjusts them before the start), connected (roster
// loaded) unless srv refuses or holds connections. It must be called in a
// synctest bubble: the channel then runs on the bubble's clock, and
// synctest.Wait waits until it has handled everything it was sent.
func fakeChannel(t *testing.T, srv *fakeServer, tweak ...func(*Channel)) *Channel {
	t.Helper()
	cfg := config.XMPP{JID: "notifyd@example.org", Password: "pw", TLS: config.TLSStartTLS}
	c, err := newChannel(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c.dial = srv.dial
	c.settle, c.approvalWait, c.ackTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	c.connectWait, c.backoffMin, c.backoffMax = 200*time.Millisecond, 10*time.Millisecond, 50*time.Millisecond
	for _, f := range tweak {
		f(c)
	}
	c.start()
	t.Cleanup(func() { c.Close() })
	synctest.Wait()
	srv.mu.Lock()
	refused := srv.dialErr != nil || srv.gate != nil
	srv.mu.Unlock()
	if !refused && !c.connected() {
		t.Fatal("the channel did not connect")
	}
	return c
}

func xmppPresence(from, typ string) xmpp.Presence { return xmpp.Presence{From: from, Type: typ} }

func xmppIQ(id, typ, from, query string) xmpp.IQ {
	return xmpp.IQ{ID: id, Type: typ, From: from, Query: []byte(query)}
}
