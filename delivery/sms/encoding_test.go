package sms

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGSMAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Errorf("basic alphabet has %d characters, want 128 less the escape", n)
	}
	if n := utf8.RuneCountInString(gsmExtension); n != 10 {
		t.Errorf("extension table has %d characters, want 10", n)
	}
	for _, r := range gsmExtension {
		if gsmBasicSet[r] {
			t.Errorf("%q is in both tables", r)
		}
	}
}

func TestSegments(t *testing.T) {
	rep := strings.Repeat
	for _, tt := range []struct {
		name string
		text string
		enc  Encoding
		n    int
	}{
		{"empty", "", GSM7, 0},
		{"short", "Hello, world!", GSM7, 1},
		{"GSM accents and Greek", "é è ù ì ò à Ç Ø Å Æ ß Ñ Ü ¿ ¡ Δ Ω £ ¥ §", GSM7, 1},
		{"160 septets: one segment", rep("a", 160), GSM7, 1},
		{"161 septets: two of 153", rep("a", 161), GSM7, 2},
		{"306 septets: two", rep("a", 306), GSM7, 2},
		{"307 septets: three", rep("a", 307), GSM7, 3},
		{"extension characters count double: 80 € is 160 septets", rep("€", 80), GSM7, 1},
		{"81 { is 162 septets", rep("{", 81), GSM7, 2},
		{"every extension character counts double", rep("^{}\\[~]|€\f", 8), GSM7, 1},
		{"every extension character counts double, one more", rep("^{}\\[~]|€\f", 8) + "[", GSM7, 2},
		// 152 + 2 + 152 = 306 septets, which would fill two segments
		// exactly, but the escape and its character stay together.
		{"an escape is not split between segments", rep("a", 152) + "{" + rep("a", 152), GSM7, 3},
		{"one non-GSM accent makes UCS-2", "Vous êtes inscrit", UCS2, 1},
		{"70 UCS-2 units: one segment", rep("ê", 70), UCS2, 1},
		{"71 UCS-2 units: two of 67", rep("ê", 71), UCS2, 2},
		{"134 UCS-2 units: two", rep("ê", 134), UCS2, 2},
		{"135 UCS-2 units: three", rep("ê", 135), UCS2, 3},
		{"an emoji is two code units: 35 fit in one segment", rep("😀", 35), UCS2, 1},
		{"36 emoji: two segments", rep("😀", 36), UCS2, 2},
		// 66 + 2 + 66 = 134 code units, two segments' worth, but the
		// surrogate pair stays whole.
		{"a surrogate pair is not split between segments", rep("ê", 66) + "😀" + rep("ê", 66), UCS2, 3},
		{"curly quote is not GSM", "“quoted”", UCS2, 1},
		{"ellipsis is not GSM", "wait…", UCS2, 1},
		{"Chinese", "会议改期", UCS2, 1},
	} {
		enc, n := Segments(tt.text)
		if enc != tt.enc || n != tt.n {
			t.Errorf("%s: %v, %d segments; want %v, %d", tt.name, enc, n, tt.enc, tt.n)
		}
	}
}

// checkShortened checks what Shorten must guarantee of out, the shortening
// of in to max segments.
func checkShortened(t *testing.T, name, in, out string, max int) {
	t.Helper()
	enc, n := Segments(out)
	if n > max {
		t.Errorf("%s: %d segments, want at most %d: %q", name, n, max, out)
	}
	if !utf8.ValidString(out) {
		t.Errorf("%s: invalid UTF-8 (a split character): %q", name, out)
	}
	ell := ellipsisGSM
	if enc == UCS2 {
		ell = ellipsisUCS2
	}
	if !strings.HasSuffix(out, ell) {
		t.Errorf("%s: %v text does not end with %q: %q", name, enc, ell, out)
	}
	kept := strings.TrimSuffix(out, ell)
	if !strings.HasPrefix(in, kept) {
		t.Errorf("%s: %q is not the beginning of the text", name, kept)
	}
}

func TestShorten(t *testing.T) {
	words := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20) // 900 septets
	for _, max := range []int{1, 2, 3, 5} {
		out := Shorten(words, max)
		checkShortened(t, "GSM-7 words", words, out, max)
		kept := strings.TrimSuffix(out, ellipsisGSM)
		// It ends at a word boundary: the next character is a space...
		if next := words[len(kept):]; next[0] != ' ' {
			t.Errorf("max %d: cut inside a word: %q|%q", max, kept[len(kept)-10:], next[:10])
		}
		// ...and is the longest that does: one more word does not fit.
		rest := strings.TrimLeft(words[len(kept):], " ")
		nextWord, _, _ := strings.Cut(rest, " ")
		longer := strings.TrimRight(words[:len(words)-len(rest)]+nextWord, ".") + ellipsisGSM
		if _, n := Segments(longer); n <= max {
			t.Errorf("max %d: %q is shorter than need be (%q fits)", max, out, longer)
		}
		// Three dots, not "…", which would make it UCS-2.
		if enc, _ := Segments(out); enc != GSM7 {
			t.Errorf("max %d: shortened GSM-7 text became %v", max, enc)
		}
	}

	if got := Shorten("short text", 1); got != "short text" {
		t.Errorf("a fitting text changed: %q", got)
	}
	if got := Shorten(strings.Repeat("a", 160), 1); got != strings.Repeat("a", 160) {
		t.Errorf("160 septets changed")
	}
	if got := Shorten("x", 0); got != "x" {
		t.Errorf("max 0 is taken as 1: %q", got)
	}

	// UCS-2: accents outside GSM and emoji; the ellipsis is "…".
	ucs := strings.Repeat("Réunion très importante 😀 à prévoir, même tôt. ", 10)
	for _, max := range []int{1, 2, 3} {
		out := Shorten(ucs, max)
		checkShortened(t, "UCS-2 words", ucs, out, max)
		kept := strings.TrimSuffix(out, ellipsisUCS2)
		if next := strings.TrimLeft(ucs[len(kept):], ",."); next[0] != ' ' {
			t.Errorf("UCS-2 max %d: cut inside a word: %q", max, out)
		}
	}

	// Emoji without spaces: cut between characters, never inside a
	// surrogate pair.
	emoji := strings.Repeat("😀", 100)
	out := Shorten(emoji, 1)
	checkShortened(t, "emoji", emoji, out, 1)
	if got := utf8.RuneCountInString(out); got != 35 { // 34 emoji (68 units) + "…"
		t.Errorf("emoji: %d characters, want 34 emoji and the ellipsis: %q", got, out)
	}

	// Extension characters at the boundary: never half an escape; the
	// count includes them.
	ext := strings.Repeat("{x} ", 60) // 4 septets... 5 a word with its space
	out = Shorten(ext, 1)
	checkShortened(t, "extension characters", ext, out, 1)
	if strings.Count(out, "{") != strings.Count(out, "}") {
		t.Errorf("extension characters: a word was cut: %q", out)
	}

	// One word longer than the message: cut it at a character.
	long := strings.Repeat("a", 400) + " tail"
	out = Shorten(long, 1)
	checkShortened(t, "one long word", long, out, 1)
	if out != strings.Repeat("a", 157)+"..." {
		t.Errorf("one long word: %q", out)
	}

	// A text that becomes GSM-7 once shortened gets "...": the shortened
	// part no longer holds the UCS-2 character.
	mixed := strings.Repeat("word ", 40) + "ê"
	out = Shorten(mixed, 1)
	if !strings.HasSuffix(out, "...") || strings.Contains(out, "ê") {
		t.Errorf("mixed: %q", out)
	}
	checkShortened(t, "mixed", mixed, out, 1)

	// Punctuation before the cut goes: no "word,...".
	punct := strings.Repeat("alpha, beta; gamma: ", 20)
	out = Shorten(punct, 1)
	checkShortened(t, "punctuation", punct, out, 1)
	if strings.HasSuffix(out, ",...") || strings.HasSuffix(out, ";...") || strings.HasSuffix(out, ":...") {
		t.Errorf("punctuation kept before the ellipsis: %q", out)
	}
}

func TestGSMFriendly(t *testing.T) {
	for in, want := range map[string]string{
		"“Team” meeting – don’t be late…": `"Team" meeting - don't be late...`,
		"« Réunion » à 10 h":              `"Réunion" à 10 h`,
		"a\u00a0b\u202fc\u200bd":          "a b cd",
		"Vous êtes 😀":                     "Vous êtes 😀",
	} {
		if got := gsmFriendly(in); got != want {
			t.Errorf("gsmFriendly(%q) = %q, want %q", in, got, want)
		}
	}
	if !IsGSM7(gsmFriendly("“Team” meeting – don’t be late…")) {
		t.Error("typographic punctuation is still not GSM-7")
	}
}

func FuzzShorten(f *testing.F) {
	f.Add("The quick brown fox jumps over the lazy dog", 1)
	f.Add(strings.Repeat("😀 ê {", 100), 2)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if !utf8.ValidString(s) || max < 1 || max > 10 {
			return
		}
		out := Shorten(s, max)
		if out == s {
			if _, n := Segments(s); n > max {
				t.Fatalf("%q unchanged with %d segments > %d", s, n, max)
			}
			return
		}
		if _, n := Segments(out); n > max || !utf8.ValidString(out) {
			t.Fatalf("Shorten(%q, %d) = %q (%d segments)", s, max, out, n)
		}
	})
}
