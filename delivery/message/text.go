package message

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cleaner makes text from calendar data safe to show: names, summaries
// and hrefs come from other people's clients and may hold line breaks,
// control characters and bidirectional overrides. The zero Cleaner is the
// usual one.
type Cleaner struct {
	// KeepJoiners keeps U+200D ZERO WIDTH JOINER, which holds emoji
	// sequences (👩‍💻) together, while other format characters go.
	KeepJoiners bool
}

// OneLine is [Cleaner.Line] of the zero Cleaner.
func OneLine(s string) string { return Cleaner{}.Line(s) }

// Line makes s safe to show on one line: control characters (line breaks
// included) become spaces, bidirectional overrides and other format
// characters go, runs of spaces shrink to one, ends are trimmed.
func (c Cleaner) Line(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < ' ' || b == 0x7f || b >= utf8.RuneSelf || (b == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cf, r) && !(c.KeepJoiners && r == '\u200d'):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Lines makes s safe to show as lines of text: it is split at its line
// breaks (CR, LF, CRLF, U+2028, U+2029), each line is made safe by
// [Cleaner.Line], blank lines at either end go and runs of them shrink to
// one. It is nil when s has no text.
func (c Cleaner) Lines(s string) []string {
	if s == "" {
		return nil
	}
	s = lineBreaks.Replace(s)
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		if l = c.Line(l); l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return out
}

// lineBreaks turns every line break into "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")

// Truncate cuts s to at most n runes, at a space when there is one in the
// last quarter of what is kept, ending with "…".
func Truncate(s string, n int) string { return TruncateWith(s, n, "…", " ") }

// TruncateWith cuts s to at most n runes ending with ellipsis, at one of
// the characters of breaks when there is one in the last quarter of what
// is kept; trailing breaks and punctuation (",;:.") go before the
// ellipsis. s is returned whole when it fits, or when n leaves no room
// beside the ellipsis.
func TruncateWith(s string, n int, ellipsis, breaks string) string {
	ell := utf8.RuneCountInString(ellipsis)
	if utf8.RuneCountInString(s) <= n || n <= ell {
		return s
	}
	end, runes := len(s), 0
	for i := range s {
		if runes == n-ell {
			end = i
			break
		}
		runes++
	}
	t := s[:end]
	if sp := strings.LastIndexAny(t, breaks); sp > len(t)*3/4 {
		t = t[:sp]
	}
	return strings.TrimRight(t, breaks+",;:.") + ellipsis
}

// Humanize turns an element name such as "numTickets" or "max-size" into
// "Num tickets", "Max size".
func Humanize(name string) string {
	var b strings.Builder
	prevLower := false
	for i, r := range name {
		switch {
		case r == '-' || r == '_':
			b.WriteByte(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			b.WriteByte(' ')
			r = unicode.ToLower(r)
		case i == 0:
			r = unicode.ToUpper(r)
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		b.WriteRune(r)
	}
	return OneLine(b.String())
}
