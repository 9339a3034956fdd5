package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// pemKey returns key as a PKCS #8 PEM file.
func pemKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func dkimYAML(keyFile, extra string) string {
	return `
channels:
  smtp:
    host: smtp.example.org
    from: "Notifyd <notifyd@mail.example.org>"
    dkim:
      selector: nd2026
      key_file: ` + keyFile + "\n" + extra
}

func TestDKIMConfig(t *testing.T) {
	dir := t.TempDir()
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edFile := writeFile(t, dir, "ed.pem", pemKey(t, edPriv))
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallFile := writeFile(t, dir, "small.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecFile := writeFile(t, dir, "ec.pem", pemKey(t, ec))
	pubDER, _ := x509.MarshalPKIXPublicKey(edPriv.Public())
	pubFile := writeFile(t, dir, "pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})))

	c := mustLoad(t, dkimYAML(edFile, "      algorithm: Ed25519\n"))
	d := c.Channels.SMTP.DKIM
	if !d.Enabled() || d.Algorithm != DKIMEd25519 || d.SigningDomain(c.Channels.SMTP.From) != "mail.example.org" {
		t.Errorf("dkim = %+v, signing domain %q", d, d.SigningDomain(c.Channels.SMTP.From))
	}
	if _, err := d.LoadKey(); err != nil {
		t.Errorf("LoadKey: %v", err)
	}
	mustLoad(t, dkimYAML(edFile, "      domain: example.org\n")) // a parent domain aligns

	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"algorithm mismatch": {dkimYAML(edFile, "      algorithm: rsa\n"),
			[]string{"channels.smtp.dkim.key_file", edFile, "holds an ed25519 key but algorithm is rsa"}},
		"short RSA key": {dkimYAML(smallFile, ""), []string{smallFile, "RSA key of 1024 bits", "at least 2048"}},
		"ECDSA key":     {dkimYAML(ecFile, ""), []string{ecFile, "RSA or Ed25519 keys only"}},
		"public key":    {dkimYAML(pubFile, ""), []string{"this is a public key"}},
		"missing file":  {dkimYAML(dir+"/none.pem", ""), []string{"cannot read the DKIM key file"}},
		"bad algorithm": {dkimYAML(edFile, "      algorithm: dsa\n"), []string{"channels.smtp.dkim.algorithm", "rsa or ed25519"}},
		"unaligned domain": {dkimYAML(edFile, "      domain: example.net\n"),
			[]string{"channels.smtp.dkim.domain", "would not align"}},
		"no selector": {strings.Replace(dkimYAML(edFile, ""), "selector: nd2026", "selector: \"\"", 1),
			[]string{"channels.smtp.dkim.selector", "is required"}},
		"no key file": {"channels:\n  smtp:\n    host: h\n    from: a@b.org\n    dkim:\n      selector: s\n",
			[]string{"channels.smtp.dkim.key_file", "is required"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadYAML(t, tc.yaml)
			wantProblems(t, err, tc.want...)
			for _, p := range problemsOf(t, err) {
				if strings.Contains(p, "PRIVATE KEY-----\nM") {
					t.Errorf("a problem shows key material: %s", p)
				}
			}
		})
	}
}
