package email_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/delivery/email"
)

// A share invitation rendered for its recipient, in English and in French.
func ExampleRenderer_Render() {
	r, err := email.NewRenderer("") // built-in templates only
	if err != nil {
		panic(err)
	}
	n := &notifyd.Notification{
		Type:     notifyd.TypeShareInvite,
		From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred Flintstone"},
		Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"},
		Access:   "read-write",
	}
	for _, locale := range []string{"en-GB", "fr-CA"} {
		m, err := r.Render(email.RenderInput{
			Notification:    n,
			System:          "cyrus",
			Principal:       "/dav/principals/user/wilma/",
			Recipient:       "wilma@example.org",
			Locale:          locale,
			TimeZone:        time.UTC,
			UnsubscribeURL:  "https://notifyd.example.org/unsubscribe/abc",
			MessageIDDomain: "notifyd.example.org",
			DeliveryID:      "42",
		})
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Subject)
	}
	// Output:
	// Fred Flintstone shared the calendar “Work” with you (read-write)
	// Fred Flintstone a partagé le calendrier « Work » avec vous (lecture-écriture)
}
