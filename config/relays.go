package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// SMTPRelay is one fallback relay of channels.smtp.fallback_relays: the
// connection settings of channels.smtp; From, DKIM, the templates and the
// bounce settings are shared with the primary relay.
type SMTPRelay struct {
	// Host is the relay's host name (required).
	Host string `json:"host"`
	// Port is the relay's port; 0 means 587, 465 or 25 by TLS mode.
	Port int `json:"port"`
	// TLS is starttls, tls or none (default "starttls").
	TLS string `json:"tls"`
	// CAFile is a PEM file of CA certificates trusted for this relay.
	CAFile string `json:"ca_file"`
	// Username is the SMTP AUTH user; empty means no authentication.
	Username string `json:"username"`
	// Password is the SMTP AUTH password; PasswordFile the file holding
	// it (one of the two). After Load, Password holds the file's content.
	Password     Secret `json:"password"`
	PasswordFile string `json:"password_file"`
	// Timeout bounds one SMTP session; 0 means channels.smtp.timeout.
	Timeout time.Duration `json:"timeout"`
	// fromFile: Password was read from PasswordFile.
	fromFile bool
}

// Addr is the relay's host:port as notifyd names it in logs and metrics
// ("host:0" before the port default is applied).
func (r SMTPRelay) Addr() string { return fmt.Sprintf("%s:%d", r.Host, r.Port) }

// relaysType is the type of channels.smtp.fallback_relays.
var relaysType = reflect.TypeFor[[]SMTPRelay]()

// relayList is channels.smtp.fallback_relays as a list of maps.
var relayList = mapList[SMTPRelay]{
	noun: "relay", fields: "host, port, tls, ca_file, username, password or password_file, timeout",
	example:     `[{host: smtp2.example.org, port: 587, username: notifyd, password_file: /run/secrets/smtp2}]`,
	jsonExample: `[{"host":"smtp2.example.org","port":587}]`,
	set: func(r *SMTPRelay, f string, val any) (err error) {
		switch f {
		case "host":
			r.Host, err = stringField(f, val)
		case "tls":
			r.TLS, err = stringField(f, val)
		case "ca_file":
			r.CAFile, err = stringField(f, val)
		case "username":
			r.Username, err = stringField(f, val)
		case "password":
			var s string
			s, err = stringField(f, val)
			r.Password = Secret(s)
		case "password_file":
			r.PasswordFile, err = stringField(f, val)
		case "port":
			switch n := val.(type) {
			case int:
				r.Port = n
			case int64:
				r.Port = int(n)
			case uint64:
				r.Port = int(n)
			case float64:
				r.Port = int(n)
				if float64(r.Port) != n {
					err = errors.New("port must be a whole number")
				}
			default:
				err = errors.New("port must be a whole number")
			}
		case "timeout":
			var s string
			if s, err = stringField(f, val); err == nil {
				if r.Timeout, err = time.ParseDuration(strings.TrimSpace(s)); err != nil {
					err = fmt.Errorf("timeout %q is not a duration; use Go syntax such as 30s", s)
				}
			}
		default:
			return errUnknownField
		}
		return err
	},
}

// readRelayFiles resolves each password_file against baseDir and reads it
// into Password.
func (ld *loader) readRelayFiles(c *Config) {
	rs := c.Channels.SMTP.FallbackRelays
	for i := range rs {
		r := &rs[i]
		if r.PasswordFile == "" {
			continue
		}
		if !filepath.IsAbs(r.PasswordFile) && ld.baseDir != "" {
			r.PasswordFile = filepath.Join(ld.baseDir, r.PasswordFile)
		}
		if r.Password != "" {
			continue // validate says to choose
		}
		v, err := readSecretFile(&leaf{kind: kindSecret}, r.PasswordFile)
		if err != nil {
			ld.p.add(fmt.Sprintf("channels.smtp.fallback_relays[%d].password_file", i+1), "%s", err)
			continue
		}
		r.Password, r.fromFile = Secret(v.(string)), true
	}
}

// validateRelays checks channels.smtp.fallback_relays.
func validateRelays(p *problems, smtp *SMTP) {
	if len(smtp.FallbackRelays) > 0 && smtp.Host == "" {
		p.add("channels.smtp.fallback_relays", "needs channels.smtp.host: fallback relays are tried after the primary relay")
	}
	seen := map[string]bool{smtp.Host + ":" + fmt.Sprint(smtp.Port): true}
	for i := range smtp.FallbackRelays {
		r := &smtp.FallbackRelays[i]
		at := fmt.Sprintf("channels.smtp.fallback_relays[%d]", i+1)
		r.TLS = strings.ToLower(strings.TrimSpace(r.TLS))
		if r.TLS == "" {
			r.TLS = TLSStartTLS
		}
		switch {
		case r.Host == "":
			p.add(at+".host", "is required: the relay's host name")
		case strings.ContainsAny(r.Host, ":/ "):
			p.add(at+".host", "must be a host name only; put the port in port")
		}
		if r.Port < 0 || r.Port > 65535 {
			p.add(at+".port", "must be between 1 and 65535, or 0 for the TLS mode's usual port")
		}
		if !oneOf(r.TLS, TLSStartTLS, TLSImplicit, TLSNone) {
			p.add(at+".tls", "must be one of starttls, tls, none")
		}
		if r.Timeout < 0 {
			p.add(at+".timeout", "must not be negative (0 means channels.smtp.timeout)")
		}
		switch {
		case r.PasswordFile != "" && r.Password != "" && !r.fromFile:
			p.add(at, "set password or password_file, not both")
		case r.Username != "" && r.Password == "" && r.PasswordFile == "":
			p.add(at+".password", "is required when username is set (or set password_file)")
		case r.Username == "" && r.Password != "":
			p.add(at+".username", "is required when a password is set")
		}
		if k := r.Host + ":" + fmt.Sprint(r.Port); r.Host != "" && seen[k] {
			p.add(at, "%s is already a relay; list each relay once", k)
		} else {
			seen[k] = true
		}
	}
}
