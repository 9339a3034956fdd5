package email

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/message"
)

// Every email carries the "manage notifications" link next to the
// unsubscribe link when the engine gives one, in the recipient's language.
func TestEmailCarriesPreferenceLink(t *testing.T) {
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://notifyd.example.org/preferences/AQGVbqQ0k3xQm8k7"
	for _, c := range []struct{ locale, words string }{{"en", "Manage notifications"}, {"fr", "Gérer les notifications"}} {
		for _, typ := range []notifyd.NotificationType{notifyd.TypeShareInvite, notifyd.TypeReminder, notifyd.TypeEventModified, notifyd.TypeOther} {
			in := RenderInput{Notification: message.Sample(typ), Recipient: "wilma@example.org", Locale: c.locale,
				UnsubscribeURL: "https://notifyd.example.org/v1/unsubscribe/x", PreferencesURL: link}
			m, err := r.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Text, c.words) || !strings.Contains(m.Text, link) {
				t.Errorf("%s %s: text part lacks the link:\n%s", c.locale, typ, m.Text)
			}
			if !strings.Contains(m.HTML, `<a href="`+link+`" style="color:#57606a;">`+c.words+`</a>`) {
				t.Errorf("%s %s: HTML part lacks the link", c.locale, typ)
			}
			in.PreferencesURL = ""
			if m, _ := r.Render(in); strings.Contains(m.Text, "/preferences/") || strings.Contains(m.HTML, c.words) {
				t.Errorf("%s %s: a link without a URL", c.locale, typ)
			}
			in.PreferencesURL = "javascript:alert(1)"
			if m, _ := r.Render(in); strings.Contains(m.HTML, "javascript") || strings.Contains(m.Text, "javascript") {
				t.Errorf("%s %s: a link that is no http(s) URL was written", c.locale, typ)
			}
		}
	}
}
