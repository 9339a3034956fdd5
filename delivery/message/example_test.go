package message_test

import (
	"fmt"
	"time"

	"github.com/notifyd/notifyd/delivery/message"
)

// The same moment for an email (long style) and an SMS (short style), in
// the recipient's language and zone.
func ExampleNewTimeFormat() {
	paris, _ := time.LoadLocation("Europe/Paris")
	start := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	fmt.Println(message.NewTimeFormat(message.Long, "en", "en", paris).DateTime(start))
	fmt.Println(message.NewTimeFormat(message.Short, "fr", "fr", paris).DateTime(start))
	// Output:
	// Tuesday 1 December 2026, 16:00 CET
	// mar. 1er déc. 2026 16h00 CET
}
