package caldavclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// multistatus is a whole DAV:multistatus, for tests.
type multistatus struct {
	Responses []msResponse
	SyncToken string
}

// parseMultistatus reads a whole multistatus, for tests.
func parseMultistatus(body []byte) (*multistatus, error) {
	var ms multistatus
	token, err := readMultistatus(bytes.NewReader(body), func(r *msResponse) error {
		ms.Responses = append(ms.Responses, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ms.SyncToken = token
	return &ms, nil
}

const (
	msHead = `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">`
	msTail = `<D:sync-token>t</D:sync-token></D:multistatus>`
	// respHead opens a response whose DAV:prop the hostile part fills.
	respHead = `<D:response><D:href>/dav/notifications/user/wilma/x.xml</D:href><D:propstat><D:prop>`
	respTail = `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
)

// nestedAnswer is a sync answer of about size bytes whose one response's
// DAV:prop holds elements nested as deep as the size allows.
func nestedAnswer(size int) string {
	n := size / len("<D:a></D:a>")
	return msHead + respHead + strings.Repeat("<D:a>", n) + strings.Repeat("</D:a>", n) + respTail + msTail
}

// wideAnswer is a sync answer of about size bytes whose one response's
// DAV:prop holds as many empty elements as the size allows.
func wideAnswer(size int) string {
	return msHead + respHead + strings.Repeat("<D:a/>", size/len("<D:a/>")) + respTail + msTail
}

// manyResponses is a sync answer of about size bytes of empty responses.
func manyResponses(size int) string {
	return msHead + strings.Repeat("<D:response/>", size/len("<D:response/>")) + msTail
}

// nested returns n elements nested in one another.
func nested(n int) string { return strings.Repeat("<D:a>", n) + strings.Repeat("</D:a>", n) }

func TestMultistatusBounds(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"deep", msHead + respHead + nested(1000) + respTail + msTail, "nested deeper than 64 levels"},
		{"deep outside responses", msHead + nested(100) + msTail, "nested deeper than 64 levels"},
		{"wide response", msHead + respHead + strings.Repeat("<D:a/>", 10000) + respTail + msTail, "more than 10000 XML elements in one DAV:response"},
		{"wide outside responses", msHead + strings.Repeat("<D:responsedescription/>", 10000) + msTail, "more than 10000 XML elements outside DAV:response elements"},
		{"too many responses", msHead + strings.Repeat("<D:response/>", maxResponses+1) + msTail, "more than 100000 DAV:response elements"},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]>` + msHead + msTail, "DOCTYPE"},
		{"other root", `<D:error xmlns:D="DAV:"/>`, "root element is {DAV:}error"},
		{"empty", ``, "no XML element"},
	} {
		_, err := parseMultistatus([]byte(tc.body))
		var pe *protocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want a protocol error saying %q", tc.name, err, tc.want)
		}
	}

	// Up to the bounds is fine: the multistatus is depth 1, so a response's
	// DAV:prop (depth 4) may hold 60 more levels; a response may have
	// 10000 elements, and the answer 10000 outside its responses (and any
	// number of responses, up to maxResponses).
	within := msHead + respHead + nested(60) + strings.Repeat("<D:a/>", maxResponseElements-5-60) + respTail +
		strings.Repeat("<D:responsedescription/>", maxOuterElements-2) +
		strings.Repeat(`<D:response><D:href>/y</D:href></D:response>`, 2*maxOuterElements) + msTail
	ms, err := parseMultistatus([]byte(within))
	if err != nil || len(ms.Responses) != 1+2*maxOuterElements || ms.SyncToken != "t" {
		t.Fatalf("an answer within the bounds: %v", err)
	}
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestSyncRefusesHostileAnswersCheaply feeds Sync the answers of the
// issue: about 9.8 MB (under the 10 MiB body cap) nested, wide, or made of
// empty responses. Parsed whole (the whole-tree parser this replaced),
// they cost 500 to 720 MB each; now each is refused with an error that
// says which bound it broke, and the deep and wide ones are refused after
// reading a few kilobytes.
func TestSyncRefusesHostileAnswersCheaply(t *testing.T) {
	const size = 9800 << 10
	for _, tc := range []struct {
		name, body, want string
		maxAlloc         uint64
	}{
		{"nested", nestedAnswer(size), "nested deeper than 64 levels", 8 << 20},
		{"wide", wideAnswer(size), "more than 10000 XML elements in one DAV:response", 8 << 20},
		{"many responses", manyResponses(size), "more than 100000 DAV:response elements", 96 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) { xmlReply(w, http.StatusMultiStatus, tc.body) })
			c := newTestClient(t, f.URL)
			var err error
			n := allocated(func() { _, err = c.Sync(context.Background(), wilmaColl, "") })
			if err == nil || IsTemporary(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "multistatus refused") {
				t.Errorf("err %v, want a permanent error saying %q", err, tc.want)
			}
			if n > tc.maxAlloc {
				t.Errorf("refusing a %d-byte answer allocated %d MB, want under %d MB", len(tc.body), n>>20, tc.maxAlloc>>20)
			}
			t.Logf("%s: %v; %.1f MB allocated", tc.name, err, float64(n)/(1<<20))
		})
	}
}

func TestPropfindAnswerBounds(t *testing.T) {
	big := samplePrincipalPropfind[:len(samplePrincipalPropfind)-len("</D:multistatus>")] +
		"<D:responsedescription>" + strings.Repeat("x", maxPropfindBytes) + "</D:responsedescription></D:multistatus>"
	for _, tc := range []struct {
		name, body string
		check      func(error) bool
	}{
		{"over 1 MiB", big, func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"nested", nestedAnswer(1 << 20), func(err error) bool {
			return strings.Contains(err.Error(), "PROPFIND") && strings.Contains(err.Error(), "nested deeper than 64 levels")
		}},
	} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ string) { xmlReply(w, http.StatusMultiStatus, tc.body) })
		c := newTestClient(t, f.URL)
		_, err := c.NotificationURL(context.Background(), "/dav/principals/user/wilma/")
		if err == nil || IsTemporary(err) || !tc.check(err) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}
