package im

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	xmpp "github.com/xmppo/go-xmpp"

	"github.com/notifyd/notifyd/config"
)

// xmppConn is one logged-in XMPP session as the channel uses it: the seam
// between the channel's logic and go-xmpp, which unit tests replace with
// a scripted server.
//
// Recv is called from one goroutine only, SendOrg from one other (the
// session's writer); Close is called by the reader once Recv has failed.
type xmppConn interface {
	// Recv returns the next stanza: an xmpp.Chat, xmpp.Presence or
	// xmpp.IQ (other values are ignored); an error ends the session.
	Recv() (any, error)
	// SendOrg writes one stanza, raw XML.
	SendOrg(stanza string) (int, error)
	// Close ends the stream and the connection.
	Close() error
}

// dialFunc opens and logs in a session.
type dialFunc func(ctx context.Context) (xmppConn, error)

// dialTimeout bounds the TCP connection; loginTimeout the whole login
// (TLS, SASL, resource binding), which go-xmpp cannot cancel: a login
// still hanging then is abandoned (and closed if it ever completes).
const (
	dialTimeout  = 10 * time.Second
	loginTimeout = 30 * time.Second
)

// goxmppDialer returns the dialFunc that logs in with go-xmpp as cfg
// says: STARTTLS (required), implicit TLS or plain, verifying the
// server's certificate for the JID's domain against roots (nil: the
// system's).
func goxmppDialer(cfg config.XMPP, bare, resource, server string, roots *tlsRoots) dialFunc {
	domain := domainOf(bare)
	return func(ctx context.Context) (xmppConn, error) {
		suffix := make([]byte, 4)
		rand.Read(suffix)
		opts := xmpp.Options{
			Host:         server,
			User:         bare,
			Password:     cfg.Password.Reveal(),
			Resource:     resource + "-" + hex.EncodeToString(suffix),
			DialTimeout:  dialTimeout,
			SoftwareName: "notifyd",
		}
		switch cfg.TLS {
		case config.TLSNone:
			opts.NoTLS = true
			opts.InsecureAllowUnencryptedAuth = true
		case config.TLSImplicit:
			opts.TLSConfig = roots.config(domain)
		default: // STARTTLS, required
			opts.NoTLS = true
			opts.StartTLS = true
			opts.TLSConfig = roots.config(domain)
		}
		type result struct {
			c   *xmpp.Client
			err error
		}
		done := make(chan result) // unbuffered: an abandoned login is closed, not handed over
		abandoned := make(chan struct{})
		go func() {
			c, err := opts.NewClient()
			select {
			case done <- result{c, err}:
			case <-abandoned:
				if c != nil {
					c.Close()
				}
			}
		}()
		timer := time.NewTimer(loginTimeout)
		defer timer.Stop()
		select {
		case r := <-done:
			if r.err != nil {
				return nil, r.err
			}
			return r.c, nil
		case <-ctx.Done():
			close(abandoned)
			return nil, ctx.Err()
		case <-timer.C:
			close(abandoned)
			return nil, fmt.Errorf("no login after %s", loginTimeout)
		}
	}
}

// tlsRoots are the certificate authorities the channel trusts.
type tlsRoots struct {
	cfg *tls.Config // RootCAs set; nil: the system's
}

// config returns the TLS configuration for a server of domain.
func (r *tlsRoots) config(domain string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if r != nil && r.cfg != nil {
		c = r.cfg.Clone()
	}
	c.ServerName = domain
	return c
}

// errConnectionDown is wrapped in the temporary error of a Send while no
// session is up.
var errConnectionDown = errors.New("not connected to the XMPP server")
