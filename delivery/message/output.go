package message

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// errFull stops a template whose output reached its limit.
var errFull = errors.New("message: output over its size limit")

// limitWriter keeps up to max bytes and fails the write that would go
// beyond, which ends a template's execution there.
type limitWriter struct {
	b    []byte
	max  int
	full bool
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); len(p) > room {
		w.b = append(w.b, p[:room]...)
		w.full = true
		return room, errFull
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// Execute runs exec (a template's Execute or ExecuteTemplate) into a
// buffer of at most limit bytes and returns what it wrote. When the
// output would go beyond limit, the template is stopped there: out is its
// first limit bytes or fewer (never a partial UTF-8 sequence at the end)
// and full is true. A template's own error is returned as err.
func Execute(limit int, exec func(io.Writer) error) (out string, full bool, err error) {
	w := &limitWriter{max: limit}
	if err := exec(w); err != nil && !(w.full && errors.Is(err, errFull)) {
		return "", false, err
	}
	return trimPartialRune(string(w.b)), w.full, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of s.
func trimPartialRune(s string) string {
	for i := 1; i <= utf8.UTFMax && i <= len(s); i++ {
		if utf8.RuneStart(s[len(s)-i]) {
			if !utf8.FullRuneInString(s[len(s)-i:]) {
				return s[:len(s)-i]
			}
			return s
		}
	}
	return s
}

// CutBytes returns the longest beginning of s of at most n bytes that
// ends at a character boundary, shortened further to end before one of
// the characters of breaks when there is one in its last quarter. s is
// returned whole when it fits.
func CutBytes(s string, n int, breaks string) string {
	if len(s) <= n {
		return s
	}
	t := trimPartialRune(s[:max(n, 0)])
	if i := strings.LastIndexAny(t, breaks); i > len(t)*3/4 {
		t = t[:i]
	}
	return t
}

// ShortenedNote is the sentence a channel adds to a message it shortened,
// in lang ("en" or "fr"; English for any other): it says how large the
// whole notification is (size bytes of text, see [TextSize]) and where
// to read it, the calendar when it has a name.
func ShortenedNote(lang string, size int, calendar string) string {
	kb := strconv.Itoa(max((size+1023)/1024, 1))
	calendar = Truncate(OneLine(calendar), 60)
	if lang == "fr" {
		where := "ouvrez votre application de calendrier"
		if calendar != "" {
			where = "ouvrez le calendrier « " + calendar + " »"
		}
		return "(Message raccourci : la notification complète fait " + kb + " Ko ; " + where + " pour la lire en entier.)"
	}
	where := "open your calendar app"
	if calendar != "" {
		where = "open the calendar “" + calendar + "”"
	}
	return "(Shortened: the full notification is " + kb + " KB; " + where + " to read it all.)"
}
