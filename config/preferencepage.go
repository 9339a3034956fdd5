package config

import (
	"log/slog"
	"time"
)

// Bounds of preference_page.link_ttl, checked by Load.
const (
	// minLinkTTL: shorter, a message read the next morning has a dead link.
	minLinkTTL = time.Hour
	// maxLinkTTL: longer, a forwarded message keeps granting access to
	// the person's settings for more than a year.
	maxLinkTTL = 366 * 24 * time.Hour
)

// PreferencePage configures the preference page people open from the
// signed link in their messages (docs/preferences.md, "The preference
// page").
type PreferencePage struct {
	// LinkTTL is how long a preference link works after the message
	// carrying it was made (default 720h, 30 days; 1h to 366 days).
	LinkTTL time.Duration `koanf:"link_ttl"`
	// SMSAndIMLink adds the preference link to SMS and IM messages too
	// (default false: only emails carry it).
	SMSAndIMLink bool `koanf:"sms_and_im_link"`
}

// defaultPreferencePage returns the preference page defaults.
func defaultPreferencePage() PreferencePage {
	return PreferencePage{LinkTTL: 30 * 24 * time.Hour}
}

// validate checks the preference page settings.
func (pp *PreferencePage) validate(p *problems) {
	if pp.LinkTTL < minLinkTTL || pp.LinkTTL > maxLinkTTL {
		p.add("preference_page.link_ttl", "must be between 1h and 8784h (366 days), e.g. 720h")
	}
}

// summary is the preference page settings for the startup log line.
func (pp *PreferencePage) summary() slog.Attr {
	return slog.Group("preference_page", "link_ttl", pp.LinkTTL.String(), "sms_and_im_link", pp.SMSAndIMLink)
}
