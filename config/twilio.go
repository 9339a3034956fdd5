package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
)

// TwilioAccount is one entry of channels.twilio.fallback_accounts: a
// further Twilio account (or messaging service) the SMS channel sends
// through when the ones before it are down.
type TwilioAccount struct {
	// Name labels the account in metrics and logs (default fallback-1,
	// fallback-2… by position).
	Name string `json:"name"`
	// AccountSID is the account's SID (AC…).
	AccountSID string `json:"account_sid"`
	// AuthToken is the account's auth token; AuthTokenFile the file holding
	// it (one of the two). After Load, AuthToken holds the file's content.
	AuthToken     Secret `json:"auth_token"`
	AuthTokenFile string `json:"auth_token_file"`
	// From is the sending number; From or MessagingServiceSID is required.
	From string `json:"from"`
	// MessagingServiceSID is the messaging service to send through.
	MessagingServiceSID string `json:"messaging_service_sid"`
	// BaseURL overrides the API base URL (empty: Twilio's own).
	BaseURL string `json:"base_url"`
	// fromFile: AuthToken was read from AuthTokenFile.
	fromFile bool
}

// twilioAccountsType is the type of channels.twilio.fallback_accounts.
var twilioAccountsType = reflect.TypeFor[[]TwilioAccount]()

// twilioAccountName is what a fallback account's name may be: it is a
// metric label.
var twilioAccountName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// PrimaryTwilioAccount is the name of channels.twilio's own account in
// metrics and logs.
const PrimaryTwilioAccount = "primary"

// twilioAccountFields is TwilioAccount without its methods, for printing.
type twilioAccountFields TwilioAccount

// Format implements fmt.Formatter: every verb prints a with its auth token
// and base URL redacted.
func (a TwilioAccount) Format(f fmt.State, verb rune) {
	p := twilioAccountFields(a)
	p.BaseURL = RedactURL(a.BaseURL)
	formatAs(f, verb, p, "twilioAccountFields", "TwilioAccount")
}

// MarshalJSON implements json.Marshaler, with the auth token and base URL
// redacted.
func (a TwilioAccount) MarshalJSON() ([]byte, error) {
	p := twilioAccountFields(a)
	p.BaseURL = RedactURL(a.BaseURL)
	return json.Marshal(p)
}

// twilioAccountList is channels.twilio.fallback_accounts as a list of
// maps.
var twilioAccountList = mapList[TwilioAccount]{
	noun: "account", fields: "account_sid, auth_token or auth_token_file, from or messaging_service_sid, and optionally name and base_url",
	example:     `[{name: backup, account_sid: AC…, auth_token_file: /run/secrets/twilio-backup, from: "+15551234567"}]`,
	jsonExample: `[{"account_sid":"AC…","auth_token_file":"/run/secrets/twilio-backup","from":"+15551234567"}]`,
	set: func(a *TwilioAccount, f string, val any) error {
		s, err := stringField(f, val)
		if err != nil {
			return err
		}
		switch f {
		case "name":
			a.Name = s
		case "account_sid":
			a.AccountSID = s
		case "auth_token":
			a.AuthToken = Secret(s)
		case "auth_token_file":
			a.AuthTokenFile = s
		case "from":
			a.From = s
		case "messaging_service_sid":
			a.MessagingServiceSID = s
		case "base_url":
			a.BaseURL = s
		default:
			return errUnknownField
		}
		return nil
	},
}

// readTwilioTokenFiles names the unnamed fallback accounts, resolves each
// auth_token_file against baseDir (the config file's directory) and reads
// it into AuthToken.
func (ld *loader) readTwilioTokenFiles(c *Config) {
	for i := range c.Channels.Twilio.FallbackAccounts {
		a := &c.Channels.Twilio.FallbackAccounts[i]
		if a.Name == "" {
			a.Name = fmt.Sprintf("fallback-%d", i+1)
		}
		if a.AuthTokenFile == "" {
			continue
		}
		if !filepath.IsAbs(a.AuthTokenFile) && ld.baseDir != "" {
			a.AuthTokenFile = filepath.Join(ld.baseDir, a.AuthTokenFile)
		}
		if a.AuthToken != "" {
			continue // validate says to choose
		}
		v, err := readSecretFile(&leaf{kind: kindSecret}, a.AuthTokenFile)
		if err != nil {
			ld.p.add(fmt.Sprintf("channels.twilio.fallback_accounts[%s].auth_token_file", a.Name), "%s", err)
			continue
		}
		a.AuthToken, a.fromFile = Secret(v.(string)), true
	}
}

// validateTwilioAccounts checks channels.twilio.fallback_accounts (the
// SMS channel checks the shapes of SIDs, tokens and senders as it does the
// primary's).
func (c *Config) validateTwilioAccounts(p *problems) {
	tw := &c.Channels.Twilio
	if len(tw.FallbackAccounts) > 0 && tw.AccountSID == "" {
		p.add("channels.twilio.fallback_accounts", "needs channels.twilio.account_sid: the fallback accounts are tried after the primary one")
	}
	names := map[string]bool{PrimaryTwilioAccount: true}
	for i, a := range tw.FallbackAccounts {
		at := fmt.Sprintf("channels.twilio.fallback_accounts[%d]", i+1)
		switch {
		case !twilioAccountName.MatchString(a.Name):
			p.add(at+".name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
		case names[a.Name]:
			p.add(at+".name", "%q names another account (%q is the primary one); give each account its own name", a.Name, PrimaryTwilioAccount)
		}
		names[a.Name] = true
		if a.AccountSID == "" {
			p.add(at+".account_sid", "is required")
		}
		switch {
		case a.AuthTokenFile != "" && a.AuthToken != "" && !a.fromFile:
			p.add(at, "set auth_token or auth_token_file, not both")
		case a.AuthTokenFile != "" && !a.fromFile:
			// The file could not be read: readTwilioTokenFiles said why.
		case strings.TrimSpace(a.AuthToken.Reveal()) == "":
			p.add(at+".auth_token", "is required (or set auth_token_file)")
		}
		if a.From == "" && a.MessagingServiceSID == "" {
			p.add(at+".from", "or messaging_service_sid is required")
		}
		if a.BaseURL != "" {
			checkHTTPURL(p, at+".base_url", a.BaseURL, false)
		}
	}
}
