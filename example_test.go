package notifyd_test

import (
	"fmt"

	"github.com/notifyd/notifyd"
)

// CleanHref normalises the percent-encoding of a principal href, so that two
// spellings of one path compare equal, and refuses hrefs that could leave
// the intended path or server.
func ExampleCleanHref() {
	for _, href := range []string{
		"/principals/users/%7efred",
		"/principals/users/j%c3%bcrgen/",
		"/principals/users/a%3ab",
		"/principals/users/%2e%2e/admin",
		"/principals/users/%EF%BC%8E%EF%BC%8E/admin",
		"https://cal.example.org/principals/users/fred",
		"/principals/users/fred?x=1",
	} {
		clean, err := notifyd.CleanHref(href)
		if err != nil {
			fmt.Printf("%s\n  refused: %v\n", href, err)
			continue
		}
		fmt.Printf("%s\n  -> %s\n", href, clean)
	}
	// Output:
	// /principals/users/%7efred
	//   -> /principals/users/~fred
	// /principals/users/j%c3%bcrgen/
	//   -> /principals/users/j%C3%BCrgen/
	// /principals/users/a%3ab
	//   -> /principals/users/a%3Ab
	// /principals/users/%2e%2e/admin
	//   refused: must not contain "." or ".." segments
	// /principals/users/%EF%BC%8E%EF%BC%8E/admin
	//   refused: must not contain "." or ".." segments, nor look-alikes of them
	// https://cal.example.org/principals/users/fred
	//   refused: must be an absolute path starting with "/" (no scheme or host)
	// /principals/users/fred?x=1
	//   refused: must not have a query ("?")
}
