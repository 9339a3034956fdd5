package im

import (
	"errors"
	"strings"

	"github.com/notifyd/notifyd/delivery/message"
)

// tidyCalendar turns what a "calendar" template produced into an iCalendar
// object: lines are trimmed, blank ones dropped, long ones folded, and
// every line ends with CRLF. It returns "" when the template wrote
// nothing, and an error when the result is not one VCALENDAR.
func tidyCalendar(s string) (string, error) {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "", nil
	}
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		return "", errors.New("the calendar template must write one BEGIN:VCALENDAR … END:VCALENDAR object")
	}
	for _, l := range lines {
		if !strings.Contains(l, ":") {
			return "", errors.New("the calendar template wrote a line that is not NAME:VALUE: " + truncate(l, 40))
		}
	}
	return message.FoldICal(lines), nil
}
