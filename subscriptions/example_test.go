package subscriptions

import (
	"context"
	"errors"
	"fmt"

	"github.com/notifyd/notifyd"
)

// A Service validates subscriptions and stores them in a Store (store.DB in
// notifyd; here the in-memory store of the tests). Create fills in the
// defaults and normalises what a client wrote; invalid input comes back as
// a notifyd.ValidationError listing every problem at once.
func ExampleService() {
	ctx := context.Background()
	svc := NewService(newMemStore(), func(system string) bool { return system == "bedework" })

	sub, err := svc.Create(ctx, Input{
		System:    "bedework",
		Principal: "/principals/users/%7efred/",
		Locale:    "fr-ca",
		Methods: []MethodInput{
			{Channel: notifyd.ChannelEmail, Address: "Fred@Example.ORG"},
			{Channel: notifyd.ChannelSMS, Address: "+14155550100",
				Types: []notifyd.NotificationType{notifyd.TypeReminder}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("principal:", sub.Principal)
	fmt.Println("enabled:", sub.Enabled, "version:", sub.Version)
	fmt.Println("locale:", sub.Locale, "time zone:", sub.TimeZone)
	for _, m := range sub.Methods {
		fmt.Println("method:", m.Channel, m.Address, m.Types, "enabled:", m.Enabled)
	}

	_, err = svc.Create(ctx, Input{
		System:    "google",
		Principal: "/principals/users/fred",
		TimeZone:  "Local",
		Methods: []MethodInput{
			{Channel: notifyd.ChannelEmail, Address: "fred@example.org"},
			{Channel: notifyd.ChannelEmail, Address: "fred@EXAMPLE.org"},
		},
	})
	var invalid notifyd.ValidationError
	if errors.As(err, &invalid) {
		for _, f := range invalid {
			fmt.Println("invalid:", f.Field)
		}
	}
	// Output:
	// principal: /principals/users/~fred/
	// enabled: true version: 1
	// locale: fr-CA time zone: UTC
	// method: email Fred@example.org [] enabled: true
	// method: sms +14155550100 [reminder] enabled: true
	// invalid: /system
	// invalid: /time_zone
	// invalid: /methods/1
}
