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

// isMember reports whether m lies inside collection c.
func isMember(m, c *url.URL) bool {
	return strings.HasPrefix(m.Path, strings.TrimSuffix(c.Path, "/")+"/")
}
