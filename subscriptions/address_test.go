package subscriptions

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
)

func TestNormalizeAddress(t *testing.T) {
	const refused = "" // want marks an address that must be refused
	tests := []struct {
		name    string
		channel notifyd.Channel
		in      string
		want    string
	}{
		// email: a bare RFC 5322 addr-spec; the domain is case-insensitive,
		// the local part may not be, so only the domain is lower-cased.
		{"email bare", notifyd.ChannelEmail, "wilma@example.org", "wilma@example.org"},
		{"email domain lower-cased", notifyd.ChannelEmail, "wilma@Example.ORG", "wilma@example.org"},
		{"email local part case kept", notifyd.ChannelEmail, "Wilma.Flintstone@Example.org", "Wilma.Flintstone@example.org"},
		{"email plus tag", notifyd.ChannelEmail, "wilma+notifyd@mail.example.org", "wilma+notifyd@mail.example.org"},
		{"email localhost", notifyd.ChannelEmail, "wilma@localhost", "wilma@localhost"},
		{"email hyphenated domain", notifyd.ChannelEmail, "w@my-host.example.org", "w@my-host.example.org"},
		{"email IDN A-label", notifyd.ChannelEmail, "w@xn--bcher-kva.example", "w@xn--bcher-kva.example"},
		{"email IPv4 literal", notifyd.ChannelEmail, "wilma@[192.0.2.1]", "wilma@[192.0.2.1]"},
		{"email display name", notifyd.ChannelEmail, "Wilma Flintstone <wilma@example.org>", refused},
		{"email quoted display name", notifyd.ChannelEmail, `"Wilma" <wilma@example.org>`, refused},
		{"email angle brackets", notifyd.ChannelEmail, "<wilma@example.org>", refused},
		{"email comment", notifyd.ChannelEmail, "wilma@example.org (Wilma)", refused},
		{"email missing @", notifyd.ChannelEmail, "wilma.example.org", refused},
		{"email missing local part", notifyd.ChannelEmail, "@example.org", refused},
		{"email missing domain", notifyd.ChannelEmail, "wilma@", refused},
		{"email two addresses", notifyd.ChannelEmail, "wilma@example.org, fred@example.org", refused},
		{"email space in local part", notifyd.ChannelEmail, "wil ma@example.org", refused},
		{"email space in domain", notifyd.ChannelEmail, "wilma@exa mple.org", refused},
		{"email leading space", notifyd.ChannelEmail, " wilma@example.org", refused},
		{"email trailing space", notifyd.ChannelEmail, "wilma@example.org ", refused},
		{"email trailing newline", notifyd.ChannelEmail, "wilma@example.org\n", refused},
		{"email header injection", notifyd.ChannelEmail, "wilma@example.org\r\nBcc: x@example.org", refused},
		{"email underscore in domain", notifyd.ChannelEmail, "wilma@exa_mple.org", refused},
		{"email domain label starting with hyphen", notifyd.ChannelEmail, "wilma@-example.org", refused},
		{"email domain label ending with hyphen", notifyd.ChannelEmail, "wilma@example-.org", refused},
		{"email domain empty label", notifyd.ChannelEmail, "wilma@example..org", refused},
		{"email domain label over 63", notifyd.ChannelEmail, "wilma@" + strings.Repeat("a", 64) + ".org", refused},
		{"email raw non-ASCII domain", notifyd.ChannelEmail, "wilma@bücher.example", refused},
		{"email bad address literal", notifyd.ChannelEmail, "wilma@[300.0.0.1]", refused},
		{"email empty", notifyd.ChannelEmail, "", refused},

		// sms: E.164.
		{"sms US", notifyd.ChannelSMS, "+14155550100", "+14155550100"},
		{"sms UK", notifyd.ChannelSMS, "+442071838750", "+442071838750"},
		{"sms 15 digits", notifyd.ChannelSMS, "+123456789012345", "+123456789012345"},
		{"sms 2 digits", notifyd.ChannelSMS, "+12", "+12"},
		{"sms missing plus", notifyd.ChannelSMS, "14155550100", refused},
		{"sms international prefix instead of plus", notifyd.ChannelSMS, "0014155550100", refused},
		{"sms leading 0 after plus", notifyd.ChannelSMS, "+04155550100", refused},
		{"sms letters", notifyd.ChannelSMS, "+1415555O100", refused},
		{"sms vanity letters", notifyd.ChannelSMS, "+1800FLOWERS", refused},
		{"sms spaces", notifyd.ChannelSMS, "+1 415 555 0100", refused},
		{"sms hyphens", notifyd.ChannelSMS, "+1-415-555-0100", refused},
		{"sms parentheses", notifyd.ChannelSMS, "+1(415)5550100", refused},
		{"sms 16 digits", notifyd.ChannelSMS, "+1234567890123456", refused},
		{"sms plus only", notifyd.ChannelSMS, "+", refused},
		{"sms one digit", notifyd.ChannelSMS, "+1", refused},
		{"sms trailing newline", notifyd.ChannelSMS, "+14155550100\n", refused},
		{"sms extension", notifyd.ChannelSMS, "+14155550100;ext=1", refused},
		{"sms fullwidth digits", notifyd.ChannelSMS, "+１４１５５５５０１００", refused},
		{"sms empty", notifyd.ChannelSMS, "", refused},

		// im: an XMPP JID local@domain[/resource].
		{"im bare JID", notifyd.ChannelIM, "wilma@example.org", "wilma@example.org"},
		{"im local and domain lower-cased", notifyd.ChannelIM, "Wilma@Example.ORG", "wilma@example.org"},
		{"im resource kept as is", notifyd.ChannelIM, "Wilma@Example.ORG/Home Phone", "wilma@example.org/Home Phone"},
		{"im resource with slash", notifyd.ChannelIM, "wilma@example.org/a/b", "wilma@example.org/a/b"},
		{"im IP literal domain", notifyd.ChannelIM, "wilma@[192.0.2.1]", "wilma@[192.0.2.1]"},
		{"im missing local part", notifyd.ChannelIM, "@example.org", refused},
		{"im domain only", notifyd.ChannelIM, "example.org", refused},
		{"im missing domain", notifyd.ChannelIM, "wilma@", refused},
		{"im second @", notifyd.ChannelIM, "wilma@fred@example.org", refused},
		{"im double quote", notifyd.ChannelIM, `wil"ma@example.org`, refused},
		{"im ampersand", notifyd.ChannelIM, "wil&ma@example.org", refused},
		{"im apostrophe", notifyd.ChannelIM, "wil'ma@example.org", refused},
		{"im colon", notifyd.ChannelIM, "wil:ma@example.org", refused},
		{"im less than", notifyd.ChannelIM, "wil<ma@example.org", refused},
		{"im greater than", notifyd.ChannelIM, "wil>ma@example.org", refused},
		{"im slash in local part", notifyd.ChannelIM, "wil/ma@example.org", refused},
		{"im space in local part", notifyd.ChannelIM, "wil ma@example.org", refused},
		{"im no-break space in local part", notifyd.ChannelIM, "wil\u00a0ma@example.org", refused},
		{"im control in local part", notifyd.ChannelIM, "wil\x01ma@example.org", refused},
		{"im bad domain", notifyd.ChannelIM, "wilma@exa_mple.org", refused},
		{"im empty resource", notifyd.ChannelIM, "wilma@example.org/", refused},
		{"im control in resource", notifyd.ChannelIM, "wilma@example.org/ph\x07one", refused},
		{"im resource over 1023 bytes", notifyd.ChannelIM, "wilma@example.org/" + strings.Repeat("r", 1024), refused},
		{"im local part over 1023 bytes", notifyd.ChannelIM, strings.Repeat("w", 1024) + "@example.org", refused},
		{"im leading space", notifyd.ChannelIM, " wilma@example.org", refused},
		{"im empty", notifyd.ChannelIM, "", refused},

		// webhook: https only, no credentials, no fragment.
		{"webhook", notifyd.ChannelWebhook, "https://hooks.example.org/notify", "https://hooks.example.org/notify"},
		{"webhook host lower-cased, path and query kept", notifyd.ChannelWebhook, "https://Hooks.Example.ORG/Notify?Key=A", "https://hooks.example.org/Notify?Key=A"},
		{"webhook port", notifyd.ChannelWebhook, "https://Hooks.example.org:8443/n", "https://hooks.example.org:8443/n"},
		{"webhook no path", notifyd.ChannelWebhook, "https://hooks.example.org", "https://hooks.example.org"},
		{"webhook IPv4", notifyd.ChannelWebhook, "https://192.0.2.1/n", "https://192.0.2.1/n"},
		{"webhook IPv6", notifyd.ChannelWebhook, "https://[2001:DB8::1]/n", "https://[2001:db8::1]/n"},
		{"webhook scheme case", notifyd.ChannelWebhook, "HTTPS://hooks.example.org/n", "https://hooks.example.org/n"},
		{"webhook http", notifyd.ChannelWebhook, "http://hooks.example.org/notify", refused},
		{"webhook ftp", notifyd.ChannelWebhook, "ftp://hooks.example.org/notify", refused},
		{"webhook no scheme", notifyd.ChannelWebhook, "hooks.example.org/notify", refused},
		{"webhook scheme-relative", notifyd.ChannelWebhook, "//hooks.example.org/notify", refused},
		{"webhook opaque", notifyd.ChannelWebhook, "https:hooks.example.org", refused},
		{"webhook credentials", notifyd.ChannelWebhook, "https://user:secret@hooks.example.org/notify", refused},
		{"webhook user only", notifyd.ChannelWebhook, "https://user@hooks.example.org/notify", refused},
		{"webhook empty userinfo", notifyd.ChannelWebhook, "https://@hooks.example.org/notify", refused},
		{"webhook fragment", notifyd.ChannelWebhook, "https://hooks.example.org/notify#top", refused},
		{"webhook empty fragment", notifyd.ChannelWebhook, "https://hooks.example.org/notify#", refused},
		{"webhook missing host", notifyd.ChannelWebhook, "https:///notify", refused},
		{"webhook port without host", notifyd.ChannelWebhook, "https://:443/notify", refused},
		{"webhook bad host", notifyd.ChannelWebhook, "https://hooks_example.org/notify", refused},
		{"webhook space in host", notifyd.ChannelWebhook, "https://hooks example.org/notify", refused},
		{"webhook leading space", notifyd.ChannelWebhook, " https://hooks.example.org/notify", refused},
		{"webhook empty", notifyd.ChannelWebhook, "", refused},

		{"unknown channel", notifyd.Channel("pager"), "wilma@example.org", refused},
		{"empty channel", notifyd.Channel(""), "wilma@example.org", refused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeAddress(tc.channel, tc.in)
			if tc.want == refused {
				if err == nil {
					t.Fatalf("NormalizeAddress(%s, %q) = %q, want an error", tc.channel, tc.in, got)
				}
				if got != "" {
					t.Errorf("NormalizeAddress(%s, %q) returned %q with its error", tc.channel, tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeAddress(%s, %q) refused: %v", tc.channel, tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizeAddress(%s, %q) = %q, want %q", tc.channel, tc.in, got, tc.want)
			}
			// The canonical form is what methods are compared by: it must
			// be accepted and stay the same.
			again, err := NormalizeAddress(tc.channel, got)
			if err != nil || again != got {
				t.Fatalf("NormalizeAddress(%s, %q) = %q, %v; want it unchanged", tc.channel, got, again, err)
			}
		})
	}
}

// TestNormalizeAddressSameRecipient checks that spellings of one recipient
// normalise to one string, and different recipients do not.
func TestNormalizeAddressSameRecipient(t *testing.T) {
	norm := func(ch notifyd.Channel, a string) string {
		t.Helper()
		n, err := NormalizeAddress(ch, a)
		if err != nil {
			t.Fatalf("NormalizeAddress(%s, %q): %v", ch, a, err)
		}
		return n
	}
	same := []struct {
		ch   notifyd.Channel
		a, b string
	}{
		{notifyd.ChannelEmail, "a@X.org", "a@x.org"},
		{notifyd.ChannelEmail, "a@EXAMPLE.ORG", "a@example.org"},
		{notifyd.ChannelIM, "A@X.org", "a@x.ORG"},
		{notifyd.ChannelWebhook, "https://X.org/h", "https://x.ORG/h"},
	}
	for _, c := range same {
		if x, y := norm(c.ch, c.a), norm(c.ch, c.b); x != y {
			t.Errorf("%s: %q -> %q and %q -> %q, want equal", c.ch, c.a, x, c.b, y)
		}
	}
	differ := []struct {
		ch   notifyd.Channel
		a, b string
	}{
		{notifyd.ChannelEmail, "A@x.org", "a@x.org"}, // local parts may be case-sensitive
		{notifyd.ChannelIM, "a@x.org/Phone", "a@x.org/phone"},
		{notifyd.ChannelWebhook, "https://x.org/H", "https://x.org/h"},
	}
	for _, c := range differ {
		if x, y := norm(c.ch, c.a), norm(c.ch, c.b); x == y {
			t.Errorf("%s: %q and %q both -> %q, want different", c.ch, c.a, c.b, x)
		}
	}
}

func TestNormalizeAddressMessages(t *testing.T) {
	for _, tc := range []struct {
		ch     notifyd.Channel
		in     string
		wantIn string
	}{
		{notifyd.ChannelEmail, "Wilma <wilma@example.org>", "bare"},
		{notifyd.ChannelSMS, "4155550100", "E.164"},
		{notifyd.ChannelWebhook, "http://x.org/", "https"},
		{notifyd.ChannelWebhook, "https://u:p@x.org/", "credentials"},
		{notifyd.ChannelIM, "wilma@x.org/", "resource"},
		{notifyd.ChannelEmail, " wilma@x.org", "spaces"},
	} {
		_, err := NormalizeAddress(tc.ch, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
			t.Errorf("NormalizeAddress(%s, %q) error = %v, want it to mention %q", tc.ch, tc.in, err, tc.wantIn)
		}
	}
}
