package caldavclient

import (
	"fmt"
	"strings"
	"testing"
)

// syncAnswer is a sync-collection answer as Cyrus writes it, with n
// changed members and the collection's own response.
func syncAnswer(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">` + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<D:response><D:href>/dav/notifications/user/wilma/7c7efcec-f2ed9e2c-%08x-b66565b.xml</D:href>`+
			`<D:propstat><D:prop><D:getetag>"%040x"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`, i, i)
	}
	b.WriteString(`<D:sync-token>data:,1795240079-6</D:sync-token></D:multistatus>`)
	return []byte(b.String())
}

// BenchmarkParseMultistatus measures parsing the answers a server sends
// in normal operation: a principal PROPFIND, a three-member sync and a
// 500-member one.
func BenchmarkParseMultistatus(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"propfind", []byte(samplePrincipalPropfind)},
		{"sync-3", []byte(sampleTruncated)},
		{"sync-500", syncAnswer(500)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for i := 0; i < b.N; i++ {
				if _, err := parseMultistatus(bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
