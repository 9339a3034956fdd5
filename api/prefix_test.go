package api

import "testing"

func TestUnderPrefixMatchesWholeSegments(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		href, prefix string
		want         bool
	}{
		{"/principals/users/fred", "", true},
		{"/principals/users/fred", "/principals/users", true},
		{"/principals/users/fred", "/principals/users/", true},
		{"/principals/users", "/principals/users", true},
		{"/principals/usersX/fred", "/principals/users", false},
		{"/principals/usersX/fred", "/principals/users/", false},
		{"/principals/users", "/principals/users/", false},
		{"/other/principals/users/fred", "/principals/users", false},
	} {
		if got := underPrefix(c.href, c.prefix); got != c.want {
			t.Errorf("underPrefix(%q, %q) = %v, want %v", c.href, c.prefix, got, c.want)
		}
	}
}
