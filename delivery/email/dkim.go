package email

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/notifyd/notifyd/config"
)

// DKIMHeaders are the header fields notifyd's DKIM signature covers, in
// h= order. RFC 8058 requires List-Unsubscribe and List-Unsubscribe-Post
// to be covered for a receiver to offer one-click unsubscription. The
// fields a reader sees or acts on are listed twice, one more time than a
// message has them (oversigning, RFC 6376 §5.4 and §8.15): a copy
// prepended on the way, which mail clients would show instead, then
// breaks the signature. A field a message lacks is signed as absent.
var DKIMHeaders = []string{
	"From", "From", "To", "To", "Subject", "Subject", "Date", "Date",
	"Message-ID", "Message-ID",
	"List-Unsubscribe", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Unsubscribe-Post",
	"MIME-Version", "Content-Type", "Auto-Submitted",
}

// dkimSigner signs messages with one key for one domain, and counts.
type dkimSigner struct {
	opts    dkim.SignOptions
	keyFile string // for error messages
	// algorithm is "rsa" or "ed25519", as the key is.
	algorithm string
	// record is the TXT record to publish at dnsName.
	record  string
	dnsName string

	signed, failed atomic.Uint64
}

// newDKIMSigner loads cfg's key for mail from the address from (as in
// channels.smtp.from).
func newDKIMSigner(cfg config.DKIM, from string) (*dkimSigner, error) {
	key, err := cfg.LoadKey()
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	domain := cfg.SigningDomain(from)
	if domain == "" || cfg.Selector == "" {
		return nil, fmt.Errorf("email: DKIM needs a selector and a signing domain (channels.smtp.dkim.selector, channels.smtp.from)")
	}
	s := &dkimSigner{
		opts: dkim.SignOptions{
			Domain:                 domain,
			Selector:               cfg.Selector,
			Signer:                 key,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             DKIMHeaders,
		},
		keyFile: cfg.KeyFile,
		dnsName: cfg.Selector + "._domainkey." + domain,
	}
	s.algorithm, s.record, err = publicRecord(key.Public())
	if err != nil {
		return nil, fmt.Errorf("email: DKIM key file %s: %w", cfg.KeyFile, err)
	}
	return s, nil
}

// publicRecord returns the key's algorithm and the DNS TXT record that
// publishes pub ("v=DKIM1; k=…; p=…").
func publicRecord(pub any) (algo, record string, err error) {
	var p []byte
	switch k := pub.(type) {
	case *rsa.PublicKey:
		algo = config.DKIMRSA
		p, err = x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", "", err
		}
	case ed25519.PublicKey:
		algo, p = config.DKIMEd25519, k
	default:
		return "", "", fmt.Errorf("unsupported key type %T", pub)
	}
	return algo, "v=DKIM1; k=" + algo + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// sign returns raw, a whole message with CRLF line ends, with a
// DKIM-Signature field prepended.
func (s *dkimSigner) sign(raw []byte) ([]byte, error) {
	out, err := s.signRaw(raw)
	if err != nil {
		return nil, s.fail(err)
	}
	s.signed.Add(1)
	return out, nil
}

// fail counts a message that could not be signed and returns its error.
func (s *dkimSigner) fail(err error) error {
	s.failed.Add(1)
	return &signError{domain: s.opts.Domain, selector: s.opts.Selector, keyFile: s.keyFile, err: err}
}

func (s *dkimSigner) signRaw(raw []byte) ([]byte, error) {
	sg, err := dkim.NewSigner(&s.opts)
	if err != nil {
		return nil, err
	}
	if _, err := sg.Write(raw); err != nil {
		_ = sg.Close()
		return nil, err
	}
	if err := sg.Close(); err != nil {
		return nil, err
	}
	sig := sg.Signature()
	out := make([]byte, 0, len(sig)+len(raw))
	out = append(out, sig...)
	return append(out, raw...), nil
}

// signError is a message notifyd could not sign: temporary (the message
// is kept and retried), since the key loaded at start and the message
// was built by notifyd, so the cause is notifyd's, not the recipient's.
type signError struct {
	domain, selector, keyFile string
	err                       error
}

func (e *signError) Error() string {
	return fmt.Sprintf("DKIM signing for %s (selector %s, key file %s) failed, message not sent and kept for a retry: %v; "+
		"check the key file, or remove channels.smtp.dkim to send unsigned", e.domain, e.selector, e.keyFile, e.err)
}

func (e *signError) Unwrap() error { return e.err }

// rawMessage is a message already written out (signed), sent as is.
type rawMessage []byte

// WriteTo writes the message to w.
func (r rawMessage) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r)
	return int64(n), err
}
