package sms_test

import (
	"fmt"
	"strings"

	"github.com/notifyd/notifyd/delivery/sms"
)

// Segments tells what a text costs: GSM-7 when every character is in the
// GSM alphabet, UCS-2 otherwise.
func ExampleSegments() {
	for _, text := range []string{
		"Fred shared the calendar \"Work\" with you.",
		strings.Repeat("a", 161),
		"Fête à 20h 🎉",
	} {
		enc, n := sms.Segments(text)
		fmt.Println(enc, n)
	}
	// Output:
	// GSM-7 1
	// GSM-7 2
	// UCS-2 1
}

// Shorten keeps a text within a number of segments, cutting at a word.
func ExampleShorten() {
	text := strings.Repeat("Weekly meeting moved to Thursday. ", 6)
	short := sms.Shorten(text, 1)
	_, n := sms.Segments(short)
	fmt.Println(n, short)
	// Output:
	// 1 Weekly meeting moved to Thursday. Weekly meeting moved to Thursday. Weekly meeting moved to Thursday. Weekly meeting moved to Thursday. Weekly meeting moved...
}
