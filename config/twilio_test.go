package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twilioPrimary = `channels:
  twilio:
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: primarytoken0123456789
    from: "+15005550006"
`

func loadTwilio(t *testing.T, yaml string, env ...string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "backup.token"), []byte("filetoken0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "notifyd.yaml")
	if err := os.WriteFile(path, []byte(twilioPrimary+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path, env)
}

func TestTwilioFallbackAccounts(t *testing.T) {
	c, err := loadTwilio(t, `    cool_down: 30s
    fallback_accounts:
      - {name: backup, account_sid: ACfedcba9876543210fedcba9876543210, auth_token_file: backup.token, messaging_service_sid: MG0123456789abcdef0123456789abcdef}
      - {account_sid: ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, auth_token: inlinetoken0123456789, from: "+15005550007", base_url: "http://u:pw@127.0.0.1:9/"}
`)
	if err != nil {
		t.Fatal(err)
	}
	tw := c.Channels.Twilio
	a := tw.FallbackAccounts
	if tw.CoolDown.String() != "30s" || len(a) != 2 || a[0].Name != "backup" || a[0].AuthToken.Reveal() != "filetoken0123456789" ||
		a[1].Name != "fallback-2" || a[1].AuthToken.Reveal() != "inlinetoken0123456789" || a[1].From != "+15005550007" {
		t.Fatalf("%+v", tw)
	}
	// Printed and marshalled, the tokens and the URL's password are
	// redacted.
	b, _ := json.Marshal(tw)
	for _, out := range []string{fmt.Sprintf("%v", tw), fmt.Sprintf("%+v", tw), fmt.Sprintf("%#v", tw), string(b)} {
		if strings.Contains(out, "token0123456789") || strings.Contains(out, "pw@") {
			t.Errorf("printed with a secret: %s", out)
		}
	}

	c, err = loadTwilio(t, "", `NOTIFYD_CHANNELS_TWILIO_FALLBACK_ACCOUNTS=[{"name":"env","account_sid":"ACfedcba9876543210fedcba9876543210","auth_token":"envtoken0123456789","from":"+15005550007"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Channels.Twilio.FallbackAccounts; len(a) != 1 || a[0].Name != "env" || a[0].AuthToken.Reveal() != "envtoken0123456789" {
		t.Fatalf("from the environment: %+v", a)
	}
}

func TestTwilioFallbackAccountsInvalid(t *testing.T) {
	const sid = "ACfedcba9876543210fedcba9876543210"
	for yaml, want := range map[string]string{
		"[{account_sid: " + sid + ", from: '+15005550007'}]":                                                             "channels.twilio.fallback_accounts[1].auth_token: is required",
		"[{account_sid: " + sid + ", auth_token: t0123456789}]":                                                          "channels.twilio.fallback_accounts[1].from: or messaging_service_sid is required",
		"[{auth_token: t0123456789, from: '+15005550007'}]":                                                              "channels.twilio.fallback_accounts[1].account_sid: is required",
		"[{account_sid: " + sid + ", auth_token: t0123456789, auth_token_file: backup.token, from: '+15005550007'}]":     "channels.twilio.fallback_accounts[1]: set auth_token or auth_token_file, not both",
		"[{account_sid: " + sid + ", auth_token_file: missing.token, from: '+15005550007'}]":                             "auth_token_file: cannot read secret file",
		"[{name: primary, account_sid: " + sid + ", auth_token: t0123456789, from: '+15005550007'}]":                     `"primary" names another account`,
		"[{name: 'a b', account_sid: " + sid + ", auth_token: t0123456789, from: '+15005550007'}]":                       "channels.twilio.fallback_accounts[1].name: must be",
		"[{account_sid: " + sid + ", auth_token: t0123456789, from: '+15005550007', base_url: 'ftp://u:t0123456789@x'}]": "channels.twilio.fallback_accounts[1].base_url: must be an absolute http or https URL",
		"[{account_sid: " + sid + ", auth_token: t0123456789, region: us1}]":                                             `unknown key "region"`,
		"{account_sid: " + sid + "}": "must be a list of accounts",
	} {
		_, err := loadTwilio(t, "    fallback_accounts: "+yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "t0123456789") {
			t.Errorf("%s: the error shows a token: %v", yaml, err)
		}
	}
	if _, err := loadYAML(t, "channels:\n  twilio:\n    cool_down: 0s\n"); err == nil || !strings.Contains(err.Error(), "channels.twilio.cool_down") {
		t.Errorf("cool_down 0s: %v", err)
	}
	if _, err := loadYAML(t, "channels:\n  twilio:\n    fallback_accounts: [{account_sid: "+sid+", auth_token: t0123456789, from: '+15005550007'}]\n"); err == nil ||
		!strings.Contains(err.Error(), "needs channels.twilio.account_sid") {
		t.Errorf("fallback without a primary: %v", err)
	}
}
