package notification

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, returns exactly one of a
// notification and an error, and that a notification always has a valid
// Type and an Element. It is seeded with every fixture.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if fi, err := os.Stat(file); err != nil || fi.IsDir() {
			continue
		}
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := Parse(body)
		if err != nil {
			if n != nil {
				t.Fatalf("Parse returned a notification with error %v", err)
			}
			return
		}
		if n == nil {
			t.Fatal("Parse returned neither a notification nor an error")
		}
		if !n.Type.Valid() {
			t.Fatalf("invalid type %q", n.Type)
		}
		if n.Element == "" {
			t.Fatal("empty Element")
		}
		if len(n.Fields) > maxFields {
			t.Fatalf("%d fields", len(n.Fields))
		}
		for k, v := range n.Fields {
			if len(v) > maxFieldBytes {
				t.Fatalf("field %s is %d bytes", k, len(v))
			}
		}
		if !n.DTStamp.IsZero() && n.DTStamp.Location().String() != "UTC" {
			t.Fatalf("DTStamp not in UTC: %v", n.DTStamp)
		}
	})
}
