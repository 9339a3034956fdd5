package config

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"strings"
)

// DKIM algorithms for DKIM.Algorithm.
const (
	// DKIMRSA is rsa-sha256 with an RSA key of at least MinDKIMRSABits.
	DKIMRSA = "rsa"
	// DKIMEd25519 is ed25519-sha256 (RFC 8463).
	DKIMEd25519 = "ed25519"
)

// MinDKIMRSABits is the smallest RSA key notifyd signs with (RFC 8301
// asks signers for at least 1024 bits; large receivers expect 2048).
const MinDKIMRSABits = 2048

// DKIM configures notifyd's own DKIM signing of the email it sends; it
// is enabled when KeyFile is set. Leave it unset when the relay signs
// (docs/deliverability.md says what the relay must sign).
type DKIM struct {
	// Domain is the signing domain (d=); empty means the domain of
	// channels.smtp.from. It must be that domain or a parent of it, so
	// that the signature aligns with the From address for DMARC.
	Domain string `koanf:"domain"`
	// Selector is the key's selector (s=): its public key is published
	// as a TXT record at <selector>._domainkey.<domain>.
	Selector string `koanf:"selector"`
	// KeyFile is a PEM file holding the private key: RSA (PKCS #1 or
	// PKCS #8, at least 2048 bits) or Ed25519 (PKCS #8), unencrypted.
	KeyFile string `koanf:"key_file"`
	// Algorithm is rsa or ed25519: what the selector's DNS record
	// declares (k=). Empty accepts either and signs with what the key
	// is; set, a key of another kind is refused at start.
	Algorithm string `koanf:"algorithm"`
}

// Enabled reports whether DKIM signing is configured.
func (d DKIM) Enabled() bool { return d.KeyFile != "" }

// SigningDomain is Domain, or else the domain of from (an address as in
// channels.smtp.from); "" when from does not parse.
func (d DKIM) SigningDomain(from string) string {
	if d.Domain != "" {
		return strings.ToLower(strings.TrimSuffix(d.Domain, "."))
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return ""
	}
	return strings.ToLower(a.Address[strings.LastIndexByte(a.Address, '@')+1:])
}

// LoadKey reads KeyFile and returns its private key, refusing a key of
// another algorithm than Algorithm, an RSA key under MinDKIMRSABits and
// key kinds DKIM cannot use. Its errors name the file and what to fix,
// never the key's content.
func (d DKIM) LoadKey() (crypto.Signer, error) {
	data, err := os.ReadFile(d.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the DKIM key file: %w", err)
	}
	key, err := parseDKIMKey(data)
	if err != nil {
		return nil, fmt.Errorf("DKIM key file %s: %w", d.KeyFile, err)
	}
	var algo string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		algo = DKIMRSA
		if bits := k.N.BitLen(); bits < MinDKIMRSABits {
			return nil, fmt.Errorf("DKIM key file %s: RSA key of %d bits; use one of at least %d (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)", d.KeyFile, bits, MinDKIMRSABits)
		}
	case ed25519.PrivateKey:
		algo = DKIMEd25519
	}
	if d.Algorithm != "" && d.Algorithm != algo {
		return nil, fmt.Errorf("DKIM key file %s holds an %s key but algorithm is %s: use the %s key published for selector %q, or set algorithm to %s (and publish k=%s)",
			d.KeyFile, algo, d.Algorithm, d.Algorithm, d.Selector, algo, algo)
	}
	return key, nil
}

// parseDKIMKey decodes the first PEM block of data into an RSA or Ed25519
// private key.
func parseDKIMKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found: want a \"PRIVATE KEY\" or \"RSA PRIVATE KEY\" PEM file")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("the key is encrypted: store it unencrypted, readable by notifyd alone")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS #1 RSA private key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS #8 private key")
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("a %T key: DKIM signs with RSA or Ed25519 keys only", k)
		}
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, errors.New("this is a public key: key_file must hold the private key")
	default:
		return nil, fmt.Errorf("a PEM block of type %q: want \"PRIVATE KEY\" (RSA or Ed25519) or \"RSA PRIVATE KEY\"", block.Type)
	}
}

// dnsLabels matches a selector or domain: dot-separated DNS labels.
var dnsLabels = regexp.MustCompile(`^(?i)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$`)

// validateDKIM checks channels.smtp.dkim, loading the key (only when
// the email channel is enabled).
func validateDKIM(p *problems, smtp *SMTP) {
	d := smtp.DKIM
	if d.Algorithm != "" && !oneOf(d.Algorithm, DKIMRSA, DKIMEd25519) {
		p.add("channels.smtp.dkim.algorithm", "must be rsa or ed25519 (what the selector's DNS record has as k=), or empty")
	}
	if !d.Enabled() {
		if d.Selector != "" || d.Domain != "" || d.Algorithm != "" {
			p.add("channels.smtp.dkim.key_file", "is required when channels.smtp.dkim is set: the PEM file of the signing key")
		}
		return
	}
	if smtp.Host == "" {
		return
	}
	if d.Selector == "" {
		p.add("channels.smtp.dkim.selector", "is required when channels.smtp.dkim.key_file is set: the selector whose TXT record at <selector>._domainkey.<domain> holds the public key")
	} else if !dnsLabels.MatchString(d.Selector) {
		p.add("channels.smtp.dkim.selector", "%q is not a DNS label such as notifyd2026", d.Selector)
	}
	if d.Domain != "" && !dnsLabels.MatchString(strings.TrimSuffix(d.Domain, ".")) {
		p.add("channels.smtp.dkim.domain", "%q is not a domain name such as example.org", d.Domain)
	} else if from := d.SigningDomain(smtp.From); from != "" && d.Domain != "" {
		fromDomain := DKIM{}.SigningDomain(smtp.From)
		if fromDomain != from && !strings.HasSuffix(fromDomain, "."+from) {
			p.add("channels.smtp.dkim.domain", "%s is neither the domain of channels.smtp.from (%s) nor a parent of it: the signature would not align with the From address for DMARC", from, fromDomain)
		}
	}
	if _, err := d.LoadKey(); err != nil {
		p.add("channels.smtp.dkim.key_file", "%v", err)
	}
}
