package notifyd

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cleanHrefAccepted lists hrefs CleanHref accepts, with the normalised form
// it must return.
var cleanHrefAccepted = []struct {
	name, in, want string
}{
	{"plain", "/principals/users/fred", "/principals/users/fred"},
	{"root", "/", "/"},
	{"trailing slash (CalendarServer style)", "/principals/__uids__/ABC-123/", "/principals/__uids__/ABC-123/"},
	{"prefix with trailing slash", "/ucaldav/principals/users/vbede/", "/ucaldav/principals/users/vbede/"},
	{"empty segment inside", "/principals//fred", "/principals//fred"},
	{"encoded tilde decoded", "/p/%7efred", "/p/~fred"},
	{"encoded tilde upper hex decoded", "/p/%7Efred", "/p/~fred"},
	{"encoded letters decoded", "/p/%66%72%65%64", "/p/fred"},
	{"encoded unreserved symbols decoded", "/p/%2d%2e%5f%7e", "/p/-._~"},
	{"reserved colon stays encoded, upper hex", "/p/a%3ab", "/p/a%3Ab"},
	{"reserved at stays encoded", "/p/a%40b", "/p/a%40b"},
	{"space stays encoded", "/p/fred%20flintstone", "/p/fred%20flintstone"},
	{"percent-encoded UTF-8", "/principals/users/j%C3%BCrgen", "/principals/users/j%C3%BCrgen"},
	{"percent-encoded UTF-8 lower hex", "/principals/users/j%c3%bcrgen", "/principals/users/j%C3%BCrgen"},
	{"CJK", "/p/%E5%B1%B1%E7%94%B0", "/p/%E5%B1%B1%E7%94%B0"},
	{"raw sub-delims, colon and at", "/p/!$&'()*+,;=:@", "/p/!$&'()*+,;=:@"},
	{"email-like principal", "/principals/users/fred@example.org", "/principals/users/fred@example.org"},
	{"three dots are a name", "/p/...", "/p/..."},
	{"dot-led name", "/p/.well-known", "/p/.well-known"},
	{"dots around a name", "/p/..a..", "/p/..a.."},
	{"encoded dot in a name", "/p/fred%2ejones", "/p/fred.jones"},
	{"ellipsis is a name", "/p/%E2%80%A6", "/p/%E2%80%A6"},
	{"two-dot leader and dot is \"...\", a name", "/p/%E2%80%A5.", "/p/%E2%80%A5."},
	{"path parameter on a name", "/p/fred;v=1", "/p/fred;v=1"},
	{"path parameter after three dots", "/p/...;x", "/p/...;x"},
	{"dots in a path parameter", "/p/fred;..", "/p/fred;.."},
	{"path parameter alone", "/p/;x", "/p/;x"},
	{"encoded semicolon in a name, upper hex", "/p/a%3bb", "/p/a%3Bb"},
	{"1024 bytes", "/" + strings.Repeat("a", MaxHrefLength-1), "/" + strings.Repeat("a", MaxHrefLength-1)},
}

// cleanHrefRefused lists hrefs CleanHref must refuse.
var cleanHrefRefused = []struct {
	name, in string
}{
	{"empty", ""},
	{"relative", "principals/users/fred"},
	{"relative dot", "./principals"},
	{"scheme", "http://h/x"},
	{"https scheme", "https://cal.example.org/principals/users/fred"},
	{"network-path reference", "//host/x"},
	{"network-path reference, bare", "//"},
	{"dot-dot", "/principals/../admin"},
	{"dot-dot at end", "/principals/users/.."},
	{"dot", "/principals/./users"},
	{"dot at end", "/principals/."},
	{"dot as only segment", "/."},
	{"encoded dot-dot", "/p/%2e%2e/admin"},
	{"encoded dot-dot upper", "/p/%2E%2E/admin"},
	{"half-encoded dot-dot", "/p/%2E./admin"},
	{"half-encoded dot-dot other half", "/p/.%2e/admin"},
	{"encoded dot", "/p/%2e/admin"},
	{"double-encoded dot-dot", "/p/%252e%252e/admin"},
	{"double-encoded anything", "/p/a%2541"},
	{"dot-dot with an empty path parameter", "/principals/..;/admin"},
	{"dot-dot with path parameters, twice", "/principals/users/..;foo/..;bar/admin"},
	{"dot-dot with two path parameters", "/p/..;a;b/admin"},
	{"dot-dot with a path parameter at end", "/principals/users/..;x"},
	{"dot with a path parameter", "/p/.;/admin"},
	{"dot with a path parameter at end", "/p/.;"},
	{"encoded dot-dot with a path parameter", "/p/%2e%2e;x/admin"},
	{"encoded dot-dot upper with a path parameter", "/p/%2E%2E;x/admin"},
	{"half-encoded dot-dot with a path parameter", "/p/.%2e;/admin"},
	{"encoded dot with a path parameter", "/p/%2e;x/admin"},
	{"dot-dot with an encoded semicolon", "/p/..%3b/admin"},
	{"encoded dot-dot with an encoded semicolon", "/p/%2e%2e%3Bjsessionid=1/admin"},
	{"dot-dot with a path parameter holding an encoded slash", "/p/..;a%2fb"},
	{"fullwidth dot-dot with a path parameter", "/p/%EF%BC%8E%EF%BC%8E;x/admin"},
	{"two-dot leader with a path parameter", "/p/%E2%80%A5;/admin"},
	{"dots around a combining grapheme joiner with a path parameter", "/p/.%CD%8F.;x/admin"},
	{"dot-dot with a Greek question mark (NFKC \";\")", "/p/..%CD%BE/admin"},
	{"dot-dot with a fullwidth semicolon", "/p/..%EF%BC%9Bx/admin"},
	{"dot-dot with a small semicolon", "/p/..%EF%B9%94x/admin"},
	{"query", "/p/fred?q"},
	{"empty query", "/p/fred?"},
	{"fragment", "/p/fred#f"},
	{"raw NUL", "/p/fr\x00ed"},
	{"encoded NUL", "/p/fr%00ed"},
	{"raw tab", "/p/fr\ted"},
	{"raw newline", "/p/fred\n"},
	{"raw CR", "/p/fred\r"},
	{"encoded newline", "/p/fred%0a"},
	{"encoded CR LF", "/p/fred%0d%0aX-Injected:%201"},
	{"raw DEL", "/p/fr\x7fed"},
	{"encoded DEL", "/p/fr%7fed"},
	{"encoded C1 control", "/p/fr%C2%85ed"},
	{"raw backslash", "/p\\..\\admin"},
	{"encoded backslash", "/p/a%5cb"},
	{"encoded backslash upper", "/p/a%5Cb"},
	{"encoded slash inside a segment", "/p/a%2fb"},
	{"encoded slash upper", "/p/a%2Fb"},
	{"encoded slash as dot-dot trick", "/p/..%2fadmin"},
	{"fullwidth dot-dot", "/p/%EF%BC%8E%EF%BC%8E/admin"},
	{"fullwidth dot", "/p/%EF%BC%8E/admin"},
	{"fullwidth dot and dot", "/p/%EF%BC%8E./admin"},
	{"one-dot leader", "/p/%E2%80%A4"},
	{"one-dot leader twice", "/p/%E2%80%A4%E2%80%A4"},
	{"two-dot leader (NFKC \"..\")", "/p/%E2%80%A5/admin"},
	{"vertical two-dot leader (NFKC \"..\")", "/p/%EF%B8%B0/admin"},
	{"small full stop", "/p/%EF%B9%92"},
	{"ideographic full stop", "/p/%E3%80%82%E3%80%82"},
	{"halfwidth ideographic full stop", "/p/%EF%BD%A1"},
	{"dots around a combining grapheme joiner", "/p/.%CD%8F./admin"},
	{"dots and a variation selector", "/p/..%EF%B8%8F/admin"},
	{"dot and a Hangul filler", "/p/%E3%85%A4./admin"},
	{"care-of sign (c/o under NFKC)", "/p/%E2%84%85"},
	{"account-of sign (a/c under NFKC)", "/p/%E2%84%80"},
	{"division slash", "/p/a%E2%88%95b"},
	{"fraction slash", "/p/a%E2%81%84b"},
	{"fullwidth solidus", "/p/a%EF%BC%8Fb"},
	{"fullwidth reverse solidus", "/p/a%EF%BC%BCb"},
	{"set minus", "/p/a%E2%88%96b"},
	{"RTL override", "/p/%E2%80%AEderf"},
	{"zero-width space", "/p/fr%E2%80%8Bed"},
	{"zero-width joiner", "/p/fr%E2%80%8Ded"},
	{"BOM", "/p/%EF%BB%BFfred"},
	{"soft hyphen", "/p/fr%C2%ADed"},
	{"line separator", "/p/fr%E2%80%A8ed"},
	{"paragraph separator", "/p/fr%E2%80%A9ed"},
	{"raw non-ASCII", "/principals/users/jürgen"},
	{"raw fullwidth dot", "/p/\uff0e\uff0e"},
	{"overlong UTF-8 dot", "/p/%C0%AE%C0%AE"},
	{"overlong UTF-8 dot, single", "/p/%C0%AE"},
	{"invalid UTF-8 byte", "/p/%FF"},
	{"truncated UTF-8", "/p/j%C3rgen"},
	{"UTF-16 surrogate as UTF-8", "/p/%ED%A0%80"},
	{"malformed percent, one digit", "/p/%4"},
	{"malformed percent, one digit mid", "/p/%4/x"},
	{"malformed percent, bare", "/p/%"},
	{"malformed percent, non-hex", "/p/%zz"},
	{"malformed percent, half hex", "/p/%4g"},
	{"malformed percent, sign", "/p/%+1"},
	{"over 1024 bytes", "/" + strings.Repeat("a", MaxHrefLength)},
	{"over 1024 bytes before normalising", "/" + strings.Repeat("%7e", 400)},
	{"less than", "/p/<script>"},
	{"greater than", "/p/a>b"},
	{"double quote", "/p/\"fred\""},
	{"left brace", "/p/{fred"},
	{"right brace", "/p/fred}"},
	{"pipe", "/p/a|b"},
	{"caret", "/p/a^b"},
	{"backtick", "/p/a`b"},
	{"left bracket", "/p/a[b"},
	{"right bracket", "/p/a]b"},
	{"space", "/p/fred flintstone"},
	{"leading space", " /p/fred"},
	{"percent sign alone in a name", "/p/100%"},
}

func TestCleanHrefAccepts(t *testing.T) {
	for _, tc := range cleanHrefAccepted {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanHref(tc.in)
			if err != nil {
				t.Fatalf("CleanHref(%q) refused: %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("CleanHref(%q) = %q, want %q", tc.in, got, tc.want)
			}
			again, err := CleanHref(got)
			if err != nil || again != got {
				t.Fatalf("CleanHref(%q) = %q, %v; want it unchanged (idempotent)", got, again, err)
			}
		})
	}
}

func TestCleanHrefRefuses(t *testing.T) {
	for _, tc := range cleanHrefRefused {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CleanHref(tc.in)
			if err == nil {
				t.Fatalf("CleanHref(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("CleanHref(%q) returned %q with its error, want \"\"", tc.in, got)
			}
			if err.Error() == "" {
				t.Errorf("CleanHref(%q): empty error message", tc.in)
			}
		})
	}
}

// TestCleanHrefSpellingsCompareEqual checks the point of normalising: two
// spellings of one path give the same string.
func TestCleanHrefSpellingsCompareEqual(t *testing.T) {
	groups := [][]string{
		{"/principals/users/~fred", "/principals/users/%7efred", "/principals/users/%7Efred", "/principals/%75sers/%7Efred"},
		{"/p/j%C3%BCrgen", "/p/j%c3%bcrgen", "/p/j%C3%bcrgen", "/p/%6a%c3%BCrgen"},
		{"/p/a%3Ab", "/p/a%3ab"},
	}
	for _, g := range groups {
		want, err := CleanHref(g[0])
		if err != nil {
			t.Fatalf("CleanHref(%q): %v", g[0], err)
		}
		for _, in := range g[1:] {
			got, err := CleanHref(in)
			if err != nil || got != want {
				t.Errorf("CleanHref(%q) = %q, %v; want %q like %q", in, got, err, want, g[0])
			}
		}
	}
}

// TestCleanHrefMessages checks that errors name the problem, since the API
// returns them to the client as the field error's detail.
func TestCleanHrefMessages(t *testing.T) {
	for _, tc := range []struct{ in, wantIn string }{
		{"", "empty"},
		{"http://h/x", "absolute path"},
		{"//h/x", "//"},
		{"/p?q", "query"},
		{"/p#f", "fragment"},
		{"/p/..", ".."},
		{"/p/..;x", "\";\""},
		{"/p/%zz", "percent-encoding"},
		{"/p/%FF", "UTF-8"},
		{"/p/\u00fc", "non-ASCII"},
		{"/p/a%2Fb", "slash"},
		{"/p/a%2525", "twice"},
		{"/" + strings.Repeat("a", MaxHrefLength), "1024"},
	} {
		_, err := CleanHref(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
			t.Errorf("CleanHref(%q) error = %v, want it to mention %q", tc.in, err, tc.wantIn)
		}
	}
}

// TestCleanHrefRefusesNFKCLookalikes tries every non-ASCII character that
// Unicode compatibility normalisation (NFKC, which some servers and file
// systems apply) turns into ".", "..", "/", "\\" or ";", alone and next to
// a full stop, and checks that no segment that would become "." or ".."
// (also once a ";" path parameter is stripped) gets through, nor a
// character that becomes a lone slash or backslash.
func TestCleanHrefRefusesNFKCLookalikes(t *testing.T) {
	checked := 0
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := norm.NFKC.String(string(r))
		switch {
		case n == "/" || n == "\\":
			checked++
			href := "/p/a" + percentEncodeForTest(string(r)) + "b"
			if out, err := CleanHref(href); err == nil {
				t.Errorf("%U (%q under NFKC): CleanHref(%q) = %q, want it refused", r, n, href, out)
			}
		case n == "." || n == "..":
			for _, seg := range []string{string(r), string(r) + ".", "." + string(r), string(r) + string(r)} {
				if ns := norm.NFKC.String(seg); ns != "." && ns != ".." {
					continue
				}
				for _, param := range []string{"", ";", ";x"} {
					checked++
					href := "/p/" + percentEncodeForTest(seg) + param + "/admin"
					if out, err := CleanHref(href); err == nil {
						t.Errorf("%U: segment %q is %q under NFKC, but CleanHref(%q) = %q", r, seg, norm.NFKC.String(seg), href, out)
					}
				}
			}
		case n == ";":
			// A server that normalises, then strips path parameters,
			// sees "..".
			for _, dots := range []string{".", ".."} {
				checked++
				href := "/p/" + dots + percentEncodeForTest(string(r)) + "x/admin"
				if out, err := CleanHref(href); err == nil {
					t.Errorf("%U (\";\" under NFKC): CleanHref(%q) = %q, want it refused", r, href, out)
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d look-alike cases found: is the Unicode table empty?", checked)
	}
}

// percentEncodeForTest percent-encodes every non-ASCII byte of s.
func percentEncodeForTest(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			b.WriteByte(s[i])
		} else {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
	}
	return b.String()
}

// checkCleanHrefOutput reports what is wrong with an accepted output.
func checkCleanHrefOutput(t *testing.T, in, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		t.Fatalf("CleanHref(%q) = %q: must start with exactly one \"/\"", in, out)
	}
	if len(out) > len(in) {
		t.Fatalf("CleanHref(%q) = %q: longer than its input", in, out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x21 || c > 0x7e {
			t.Fatalf("CleanHref(%q) = %q: byte %#x at %d is not printable ASCII", in, out, c, i)
		}
	}
	if strings.ContainsAny(out, "?#\\") {
		t.Fatalf("CleanHref(%q) = %q: has \"?\", \"#\" or \"\\\"", in, out)
	}
	for _, seg := range strings.Split(out[1:], "/") {
		if name, _, _ := strings.Cut(seg, ";"); name == "." || name == ".." {
			t.Fatalf("CleanHref(%q) = %q: has a %q segment (before its \";\" parameters)", in, out, seg)
		}
		dec, ok := decodeForTest(seg)
		if !ok {
			t.Fatalf("CleanHref(%q) = %q: segment %q is not well-formed percent-encoding", in, out, seg)
		}
		if dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\%\x00") || !utf8.ValidString(dec) {
			t.Fatalf("CleanHref(%q) = %q: segment %q decodes to %q", in, out, seg, dec)
		}
		if n := norm.NFKC.String(dec); n == "." || n == ".." {
			t.Fatalf("CleanHref(%q) = %q: segment %q is %q under NFKC", in, out, seg, n)
		}
		// Servers that strip ";" path parameters (decoded or not, before
		// or after NFKC) must not find a dot segment either.
		for _, s := range []string{dec, norm.NFKC.String(dec)} {
			if name, _, _ := strings.Cut(s, ";"); name == "." || name == ".." || norm.NFKC.String(name) == "." || norm.NFKC.String(name) == ".." {
				t.Fatalf("CleanHref(%q) = %q: segment %q is %q once its \";\" parameters are stripped", in, out, seg, name)
			}
		}
	}
	again, err := CleanHref(out)
	if err != nil {
		t.Fatalf("CleanHref(%q) = %q, but CleanHref(%q) refuses it: %v", in, out, out, err)
	}
	if again != out {
		t.Fatalf("CleanHref is not idempotent: %q -> %q -> %q", in, out, again)
	}
}

// decodeForTest percent-decodes s, independently of the code under test.
func decodeForTest(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := strings.IndexByte(upperHex, s[i+1]), strings.IndexByte(upperHex, s[i+2])
		if hi < 0 || lo < 0 {
			return "", false // also refuses lower-case hex: output must be upper case
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), true
}

func FuzzCleanHref(f *testing.F) {
	for _, tc := range cleanHrefAccepted {
		f.Add(tc.in)
	}
	for _, tc := range cleanHrefRefused {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CleanHref(in)
		if err != nil {
			if out != "" {
				t.Fatalf("CleanHref(%q) = %q with error %v", in, out, err)
			}
			return
		}
		checkCleanHrefOutput(t, in, out)
	})
}
