package message

import (
	"strings"
	"testing"
)

// A link is shown only when it is an absolute http(s) URL that nothing
// around it can break.
func TestLinkURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://cal.example.org/preferences/AbC-_x.Y~z": true,
		"http://127.0.0.1:8080/preferences/t?x=1&y=%20":  true,
		"":                                false,
		"/preferences/t":                  false,
		"ftp://example.org/preferences/t": false,
		"https:///preferences/t":          false,
		"https://example.org/a b":         false,
		"https://example.org/a\nb":        false,
		"https://example.org/<b>":         false,
		`https://example.org/"b"`:         false,
		"https://example.org/é":           false,
		"https://example.org/" + strings.Repeat("a", MaxLinkBytes): false,
	} {
		if got := LinkURL(u); ok && got != u || !ok && got != "" {
			t.Errorf("LinkURL(%q) = %q", u, got)
		}
	}
}
