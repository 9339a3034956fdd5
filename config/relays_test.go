package config

import (
	"strings"
	"testing"
	"time"
)

const relaysBase = `channels:
  smtp:
    host: smtp1.example.org
    from: notifyd@example.org
`

func TestFallbackRelays(t *testing.T) {
	c, err := loadKeys(t, relaysBase+`    fallback_relays:
      - {host: smtp2.example.org, port: 2525, tls: NONE, username: n, password_file: ops.key, timeout: 10s}
      - {host: smtp3.example.org, ca_file: /etc/ca.pem}
`)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Channels.SMTP.FallbackRelays
	if len(r) != 2 || r[0].Host != "smtp2.example.org" || r[0].Port != 2525 || r[0].TLS != TLSNone ||
		r[0].Password.Reveal() != "file-key-0123456789" || r[0].Timeout != 10*time.Second ||
		r[1].TLS != TLSStartTLS || r[1].Port != 0 || r[1].CAFile != "/etc/ca.pem" {
		t.Fatalf("%+v", r)
	}
	c, err = loadKeys(t, relaysBase, `NOTIFYD_CHANNELS_SMTP_FALLBACK_RELAYS=[{"host":"smtp9.example.org","port":587,"username":"u","password":"pw-0123456789"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Channels.SMTP.FallbackRelays; len(r) != 1 || r[0].Host != "smtp9.example.org" || r[0].Password.Reveal() != "pw-0123456789" {
		t.Fatalf("from the environment: %+v", r)
	}
}

func TestFallbackRelaysInvalid(t *testing.T) {
	for yaml, want := range map[string]string{
		"fallback_relays: [{port: 25}]":                                                       "fallback_relays[1].host: is required",
		"fallback_relays: [{host: a.example.org, tls: ssl}]":                                  "fallback_relays[1].tls: must be one of",
		"fallback_relays: [{host: a.example.org, port: 70000}]":                               "fallback_relays[1].port: must be between",
		"fallback_relays: [{host: a.example.org, username: u}]":                               "fallback_relays[1].password: is required",
		"fallback_relays: [{host: a.example.org, password: pw-0123456789}]":                   "fallback_relays[1].username: is required",
		"fallback_relays: [{host: a.example.org, port: 25}, {host: a.example.org, port: 25}]": "fallback_relays[2]: a.example.org:25 is already a relay",
		"fallback_relays: [{host: a.example.org, smarthost: x}]":                              `unknown key "smarthost"`,
		"fallback_relays: [{host: a.example.org, timeout: soon}]":                             "is not a duration",
		"fallback_relays: {host: a.example.org}":                                              "must be a list of relays",
	} {
		_, err := loadKeys(t, relaysBase+"    "+yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%s: the error shows a password: %v", yaml, err)
		}
	}
	if _, err := loadKeys(t, "channels:\n  smtp:\n    fallback_relays: [{host: a.example.org}]\n"); err == nil || !strings.Contains(err.Error(), "needs channels.smtp.host") {
		t.Errorf("fallback relays without a primary: %v", err)
	}
}
