package caldavclient

import (
	"net/url"
	"strings"
)

// samePath reports whether a and b name the same path, ignoring a final
// slash and percent-encoding differences.
func samePath(a, b *url.URL) bool {
	return strings.TrimSuffix(a.Path, "/") == strings.TrimSuffix(b.Path, "/")
}

// isMember reports whether m names a resource strictly inside collection
// c: below c's path, with no segment a server could take for a step
// elsewhere ("." or "..", also percent-encoded or followed by ";…") and no
// encoded "/" or "\" that would split a segment in two. Requests use m's
// escaped path as the server sent it, so it is judged as a server would.
func isMember(m, c *url.URL) bool {
	if unsafePath(m.EscapedPath(), true) {
		return false
	}
	prefix := strings.TrimSuffix(c.Path, "/") + "/"
	return strings.HasPrefix(m.Path, prefix) && strings.Trim(m.Path[len(prefix):], "/") != ""
}

// maxDecodes is how many times unsafePath percent-decodes a segment: a
// server that decodes twice must not find a dot segment or a slash either.
const maxDecodes = 3

// unsafePath reports whether the escaped path p has a segment a server
// could take for a step elsewhere: "." or "..", judged by what precedes
// any ";" (servers drop such path parameters), also once percent-decoded
// (up to maxDecodes times) and split at the slashes and backslashes that
// decoding reveals; or a NUL. Strict, it refuses any such slash or
// backslash too: they would change where a server splits the path into
// segments.
func unsafePath(p string, strict bool) bool {
	for _, seg := range strings.Split(p, "/") {
		for i := 0; ; i++ {
			if strings.ContainsRune(seg, 0) || (strict && strings.ContainsAny(seg, `/\`)) {
				return true
			}
			for _, piece := range strings.FieldsFunc(seg, func(r rune) bool { return r == '/' || r == '\\' }) {
				if name, _, _ := strings.Cut(piece, ";"); name == "." || name == ".." {
					return true
				}
			}
			if i == maxDecodes || !strings.Contains(seg, "%") {
				break
			}
			d, err := url.PathUnescape(seg)
			if err != nil {
				break // a "%" that is not an escape: nothing more to decode
			}
			seg = d
		}
	}
	return false
}

// inHome reports whether u is a collection directly in the calendar home
// whose (decoded) path is home: one plain segment below it, with or
// without a final slash.
func inHome(u *url.URL, home string) bool {
	if unsafePath(u.EscapedPath(), true) {
		return false
	}
	home = strings.TrimSuffix(home, "/") + "/"
	if !strings.HasPrefix(u.Path, home) {
		return false
	}
	rest := strings.TrimSuffix(u.Path[len(home):], "/")
	return rest != "" && !strings.Contains(rest, "/")
}
