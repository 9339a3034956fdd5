package im

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// icalText escapes s as an iCalendar TEXT value (RFC 5545, 3.3.11): the
// backslash, semicolon and comma are escaped and line breaks become "\n".
func icalText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ';':
			b.WriteString(`\;`)
		case ',':
			b.WriteString(`\,`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			if r < ' ' || r == 0x7f {
				continue // CONTROL characters are not allowed in TEXT
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// icalUTC writes t as an iCalendar DATE-TIME in UTC ("20261201T150000Z").
func icalUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icalDate writes t's calendar date as an iCalendar DATE ("20261201"),
// without zone conversion (all-day events keep their dates).
func icalDate(t time.Time) string { return t.Format("20060102") }

// maxICalLine is the longest content line, in octets, before folding
// (RFC 5545, 3.1).
const maxICalLine = 75

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
	var b strings.Builder
	for _, l := range lines {
		if !strings.Contains(l, ":") {
			return "", errors.New("the calendar template wrote a line that is not NAME:VALUE: " + truncate(l, 40))
		}
		foldLine(&b, l)
	}
	return b.String(), nil
}

// foldLine writes one content line, folded into lines of at most
// maxICalLine octets (continuations start with a space), never inside a
// UTF-8 sequence, each ended by CRLF.
func foldLine(b *strings.Builder, l string) {
	limit := maxICalLine
	for len(l) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(l[cut]) {
			cut--
		}
		b.WriteString(l[:cut])
		b.WriteString("\r\n ")
		l = l[cut:]
		limit = maxICalLine - 1 // the leading space counts
	}
	b.WriteString(l)
	b.WriteString("\r\n")
}
