package im

import (
	"strings"

	"github.com/notifyd/notifyd/delivery/message"
)

// clean cleans the text templates see.
var clean message.Cleaner

// truncate cuts s to at most n runes, at a space or line break when one is
// near, ending with "…".
func truncate(s string, n int) string { return message.TruncateWith(s, n, "…", " \n") }

// tidyText trims every line and drops the blank ones, so templates can be
// laid out freely and a pop-up stays compact.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
