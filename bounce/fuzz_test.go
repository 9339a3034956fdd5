package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary messages: it must return a report or
// an error, never panic, and a report must be consistent.
func FuzzParse(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: MAILER-DAEMON@x\nTo: " + fixtureAddr + "\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nAction: failed\n--b--\n"))
	v := testVERP(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw, "", v)
		if err != nil {
			if errors.Is(err, ErrForged) || errors.Is(err, ErrNoToken) || errors.Is(err, ErrNotBounce) || strings.HasPrefix(err.Error(), "bounce: ") {
				return
			}
			t.Fatalf("unexpected error %v", err)
		}
		if r.DeliveryID == "" || (r.Kind != Hard && r.Kind != Soft && r.Kind != Success) || len(r.Diagnostic) > 1000 {
			t.Fatalf("inconsistent report %+v", r)
		}
	})
}
