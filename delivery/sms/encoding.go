package sms

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encoding is how an SMS's text travels: the GSM 03.38 7-bit default
// alphabet when every character is in it, UCS-2 (UTF-16) otherwise.
type Encoding int

const (
	// GSM7 is the GSM 03.38 default alphabet, with its extension table
	// (whose characters take two septets: an escape and the character).
	GSM7 Encoding = iota
	// UCS2 is UTF-16: one code unit per character, two for characters
	// outside the Basic Multilingual Plane (emoji).
	UCS2
)

// String returns "GSM-7" or "UCS-2".
func (e Encoding) String() string {
	if e == GSM7 {
		return "GSM-7"
	}
	return "UCS-2"
}

// Per-segment capacities. A message that fits in one segment has the whole
// 140 octets; a longer one is sent as concatenated segments, each losing 6
// octets to the user data header.
const (
	gsmSingle  = 160 // septets
	gsmMulti   = 153 // septets per segment of a longer message
	ucs2Single = 70  // UTF-16 code units
	ucs2Multi  = 67  // UTF-16 code units per segment of a longer message
)

// gsmBasic is the GSM 03.38 default alphabet (without the escape, 0x1B).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each character is sent
// as the escape and a second septet.
const gsmExtension = "\f^{}\\[~]|€"

var gsmBasicSet, gsmExtSet = runeSet(gsmBasic), runeSet(gsmExtension)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// gsmWidth returns how many septets r takes in GSM-7, 0 if it cannot be
// sent in GSM-7.
func gsmWidth(r rune) int {
	switch {
	case gsmBasicSet[r]:
		return 1
	case gsmExtSet[r]:
		return 2
	}
	return 0
}

// IsGSM7 reports whether every character of text is in the GSM 03.38
// default alphabet or its extension table.
func IsGSM7(text string) bool {
	for _, r := range text {
		if gsmWidth(r) == 0 {
			return false
		}
	}
	return true
}

// Segments returns the encoding text needs and how many SMS segments it
// takes: one up to 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2),
// else segments of 153 septets or 67 code units. A character is never
// split between two segments (a GSM-7 extension character keeps its escape
// with it, a UCS-2 surrogate pair stays whole), so a segment may hold one
// unit less than its capacity. An empty text takes 0 segments.
func Segments(text string) (Encoding, int) {
	enc := UCS2
	if IsGSM7(text) {
		enc = GSM7
	}
	return enc, segmentsIn(text, enc)
}

// width is the size of r in enc's units (septets or UTF-16 code units).
func width(r rune, enc Encoding) int {
	if enc == GSM7 {
		return gsmWidth(r)
	}
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// segmentsIn counts the segments of text encoded as enc (which must be
// able to encode it).
func segmentsIn(text string, enc Encoding) int {
	single, multi := gsmSingle, gsmMulti
	if enc == UCS2 {
		single, multi = ucs2Single, ucs2Multi
	}
	total := 0
	for _, r := range text {
		total += width(r, enc)
	}
	switch {
	case total == 0:
		return 0
	case total <= single:
		return 1
	}
	n, used := 1, 0
	for _, r := range text {
		w := width(r, enc)
		if used+w > multi {
			n++
			used = 0
		}
		used += w
	}
	return n
}

// Ellipses that mark a shortened text: three dots in GSM-7, whose
// alphabet has no "…" (adding one would turn the whole message into UCS-2,
// cutting its capacity from 153 to 67 characters a segment); "…" in UCS-2.
const (
	ellipsisGSM  = "..."
	ellipsisUCS2 = "…"
)

// Shorten returns text if it fits in maxSegments SMS segments (at least
// 1); otherwise the longest beginning of it that ends at a word boundary
// and, with an ellipsis added, fits. The ellipsis is "..." when the
// shortened text is GSM-7 and "…" when it is UCS-2. Only a first word too
// long for the whole message is cut inside; characters are never split (a
// surrogate pair or a GSM-7 escape sequence stays whole).
func Shorten(text string, maxSegments int) string {
	maxSegments = max(maxSegments, 1)
	if _, n := Segments(text); n <= maxSegments {
		return text
	}
	fits := func(s string) (string, bool) {
		s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(",;:.-(", r) })
		if s == "" {
			return "", false
		}
		if IsGSM7(s) {
			s += ellipsisGSM
		} else {
			s += ellipsisUCS2
		}
		_, n := Segments(s)
		return s, n <= maxSegments
	}
	// No more characters than the most that maxSegments can hold can fit:
	// start there, then try each earlier word boundary.
	limit, most := 0, max(gsmSingle, maxSegments*gsmMulti)
	for i := range text {
		if limit == most {
			text = text[:i]
			break
		}
		limit++
	}
	for end := len(text); end > 0; {
		// The word boundary before end: the start of the last run of
		// spaces before it.
		i := strings.LastIndexFunc(text[:end], unicode.IsSpace)
		if i < 0 {
			break
		}
		for i > 0 {
			r, size := utf8.DecodeLastRuneInString(text[:i])
			if !unicode.IsSpace(r) {
				break
			}
			i -= size
		}
		if s, ok := fits(text[:i]); ok {
			return s
		}
		end = i
	}
	// One word longer than the message: cut it at a character.
	for end := len(text); end > 0; {
		_, size := utf8.DecodeLastRuneInString(text[:end])
		end -= size
		if s, ok := fits(text[:end]); ok {
			return s
		}
	}
	return ellipsisGSM
}

// gsmFriendly replaces typographic characters that have a plain equivalent
// in the GSM 03.38 alphabet (curly quotes and apostrophes, guillemets,
// dashes, the ellipsis, special spaces) and drops invisible format
// characters, as Twilio's "smart encoding" does, so that a text is sent in
// GSM-7 whenever its letters allow. Letters are left alone: an accent
// outside the GSM alphabet (ê, ç) makes the message UCS-2.
func gsmFriendly(s string) string {
	return gsmReplacer.Replace(s)
}

var gsmReplacer = strings.NewReplacer(
	// French guillemets with their inner (non-breaking) spaces first.
	"« ", `"`, " »", `"`, "«\u00a0", `"`, "\u00a0»", `"`, "«\u202f", `"`, "\u202f»", `"`,
	"«", `"`, "»", `"`, "“", `"`, "”", `"`, "„", `"`, "‟", `"`, "″", `"`,
	"‘", "'", "’", "'", "‚", "'", "‛", "'", "′", "'", "`", "'", "´", "'",
	"‐", "-", "‑", "-", "‒", "-", "–", "-", "—", "-", "―", "-", "−", "-",
	"…", "...", "•", "-",
	"\u00a0", " ", "\u2002", " ", "\u2003", " ", "\u2004", " ", "\u2005", " ", "\u2006", " ",
	"\u2007", " ", "\u2008", " ", "\u2009", " ", "\u200a", " ", "\u202f", " ", "\u205f", " ", "\t", " ",
	"\u200b", "", "\u2060", "", "\ufeff", "", "\u00ad", "",
)
