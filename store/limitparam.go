package store

import "strings"

// limitAsExpression returns query with a unary plus before each parameter
// that is a LIMIT's whole value ("LIMIT $3" becomes "LIMIT +$3"), for the
// statement cache to prepare.
//
// SQLite plans a statement whose LIMIT is a bare parameter for the value
// bound to it: binding a new value expires the statement, which is then
// parsed and planned again on its next run. River fetches jobs with such a
// statement, many times a second, and notifyd's paged queries have one;
// re-planning them was about 4% of notifyd's CPU under load. An expression
// is evaluated when the statement runs, so SQLite plans it once, for any
// value; and SQLite's unary plus is a no-op (it returns its operand
// unchanged, whatever its type), so the statement means exactly what it
// did. (SQLite's query planner stability guarantee has the same effect,
// but modernc.org/sqlite offers no way to turn it on.)
//
// The scan skips string literals, quoted identifiers and comments; a
// parameter is ?, ?NNN, or :, @ or $ followed by a name or number. In
// "LIMIT m, n" both terms get one (n is the count).
func limitAsExpression(query string) string {
	var b strings.Builder
	last := 0 // query[:last] is written to b
	// afterLimit: the last token was LIMIT (or the comma of LIMIT m, n,
	// whose second term is the count, or a parenthesis after them);
	// afterParam: it was a LIMIT's parameter.
	afterLimit, afterParam := false, false
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(query, i, c)
			afterLimit, afterParam = false, false
		case c == '[':
			i = skipQuoted(query, i, ']')
			afterLimit, afterParam = false, false
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			if n := strings.IndexByte(query[i:], '\n'); n >= 0 {
				i += n + 1
			} else {
				i = len(query)
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			if n := strings.Index(query[i+2:], "*/"); n >= 0 {
				i += 2 + n + 2
			} else {
				i = len(query)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case afterLimit && (c == '?' || c == ':' || c == '@' || c == '$'):
			b.WriteString(query[last:i])
			b.WriteByte('+')
			last = i
			i = skipWord(query, i+1)
			afterLimit, afterParam = false, true
		case isWordByte(c):
			end := skipWord(query, i)
			afterLimit, afterParam = strings.EqualFold(query[i:end], "limit"), false
			i = end
		default:
			// A parenthesis keeps the parameter the LIMIT's value.
			afterLimit, afterParam = c == ',' && afterParam || c == '(' && afterLimit, false
			i++
		}
	}
	if last == 0 {
		return query
	}
	b.WriteString(query[last:])
	return b.String()
}

// skipQuoted returns the index after the quoted text starting at query[i]
// and closed by end (a doubled end stands for itself).
func skipQuoted(query string, i int, end byte) int {
	for i++; i < len(query); i++ {
		if query[i] == end {
			if i+1 < len(query) && query[i+1] == end && end != ']' {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(query)
}

// skipWord returns the index after the word (letters, digits, _, $ and
// bytes of multi-byte characters) starting at query[i].
func skipWord(query string, i int) int {
	for i < len(query) && isWordByte(query[i]) {
		i++
	}
	return i
}

// isWordByte reports whether c can be part of a keyword, name or number.
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
