package message

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"unicode/utf8"

	"github.com/notifyd/notifyd"
)

func TestShorten(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	longID := "/" + strings.Repeat("a", MaxIDBytes)
	n := &notifyd.Notification{
		Type: notifyd.TypeResourceChange, Element: longID, UID: "u1", Summary: long, Status: "ok",
		From:     notifyd.Person{Href: longID, CommonName: long},
		Calendar: notifyd.Collection{Href: "/c/", DisplayName: long},
		Event:    &notifyd.Event{Href: "/c/e.ics", Summary: long, Location: "Room"},
		Changes:  []notifyd.Change{{Kind: "updated", Href: longID, Summary: long, Properties: []string{"DTSTART", long}}},
		Fields:   map[string]string{"a": long, "b": "short", longID: "x"},
	}
	orig := clone(n)
	got, cut := Shorten(n, 100)
	if !cut || got == n {
		t.Fatalf("Shorten = %p, %v; want a copy, cut", got, cut)
	}
	if !reflect.DeepEqual(n, orig) {
		t.Fatal("Shorten changed its argument")
	}
	short := Truncate(long, 100)
	want := &notifyd.Notification{
		Type: notifyd.TypeResourceChange, UID: "u1", Summary: short, Status: "ok",
		From:     notifyd.Person{CommonName: short},
		Calendar: notifyd.Collection{Href: "/c/", DisplayName: short},
		Event:    &notifyd.Event{Href: "/c/e.ics", Summary: short, Location: "Room"},
		Changes:  []notifyd.Change{{Kind: "updated", Summary: short, Properties: []string{"DTSTART", short}}},
		Fields:   map[string]string{"a": short, "b": "short"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Shorten =\n%+v\nwant\n%+v", got, want)
	}

	small := &notifyd.Notification{Type: notifyd.TypeOther, Summary: "héllo", Fields: map[string]string{"a": "b"}}
	if got, cut := Shorten(small, 5); got != small || cut {
		t.Errorf("Shorten of what fits = %p, %v; want the same, false", got, cut)
	}
	if got, cut := Shorten(nil, 5); got != nil || cut {
		t.Error("Shorten(nil)")
	}
	if size := TextSize(small); size != len("héllo")+2 {
		t.Errorf("TextSize = %d", size)
	}
}

func TestExecute(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(`{{range .}}{{.}}{{end}}`))
	run := func(limit int, data any) (string, bool, error) {
		return Execute(limit, func(w io.Writer) error { return tmpl.Execute(w, data) })
	}
	if out, full, err := run(100, []string{"ab", "cd"}); out != "abcd" || full || err != nil {
		t.Errorf("within the limit: %q, %v, %v", out, full, err)
	}
	if out, full, err := run(4, []string{"ab", "cd"}); out != "abcd" || full || err != nil {
		t.Errorf("at the limit: %q, %v, %v", out, full, err)
	}
	// The template stops at the limit, whatever remains.
	calls := 0
	many := template.Must(template.New("").Funcs(template.FuncMap{"count": func() string { calls++; return "é😀" }}).
		Parse(`{{range 1000000}}{{count}}{{end}}`))
	out, full, err := Execute(100, func(w io.Writer) error { return many.Execute(w, nil) })
	if !full || err != nil || len(out) > 100 || !utf8.ValidString(out) || calls > 20 {
		t.Errorf("over the limit: %d bytes, full %v, %v, valid UTF-8 %v, %d calls", len(out), full, err, utf8.ValidString(out), calls)
	}
	if out != strings.Repeat("é😀", 16)+"é" {
		t.Errorf("over the limit: %q, want whole characters up to 100 bytes", out)
	}
	// The template's own errors are reported.
	boom := template.Must(template.New("").Funcs(template.FuncMap{"boom": func() (string, error) { return "", errors.New("boom") }}).Parse(`a{{boom}}`))
	if _, _, err := Execute(100, func(w io.Writer) error { return boom.Execute(w, nil) }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("template error: %v", err)
	}
}

func TestCutBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"one two three four", 16, "one two three"},
		{"onetwothreefour", 10, "onetwothre"},
		{"ééééé", 5, "éé"},
		{"line one\nline two", 10, "line one"},
		{"line one\nline two", 13, "line one\nline"},
	} {
		if got := CutBytes(tc.s, tc.n, " \n"); got != tc.want {
			t.Errorf("CutBytes(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestShortenedNote(t *testing.T) {
	for _, tc := range []struct {
		lang     string
		size     int
		calendar string
		want     string
	}{
		{"en", 490000, "Work", "(Shortened: the full notification is 479 KB; open the calendar “Work” to read it all.)"},
		{"en", 10, "", "(Shortened: the full notification is 1 KB; open your calendar app to read it all.)"},
		{"de", 2048, "", "(Shortened: the full notification is 2 KB; open your calendar app to read it all.)"},
		{"fr", 1 << 20, "Travail", "(Message raccourci : la notification complète fait 1024 Ko ; ouvrez le calendrier « Travail » pour la lire en entier.)"},
		{"fr", 0, "", "(Message raccourci : la notification complète fait 1 Ko ; ouvrez votre application de calendrier pour la lire en entier.)"},
	} {
		if got := ShortenedNote(tc.lang, tc.size, tc.calendar); got != tc.want {
			t.Errorf("ShortenedNote(%q, %d, %q) = %q, want %q", tc.lang, tc.size, tc.calendar, got, tc.want)
		}
	}
	if got := ShortenedNote("en", 1, strings.Repeat("long name ", 100)); utf8.RuneCountInString(got) > 150 {
		t.Errorf("a long calendar name makes a note of %d characters", utf8.RuneCountInString(got))
	}
}

func TestMostThatFit(t *testing.T) {
	for _, tc := range []struct{ most, fit int }{
		{0, 0}, {0, -1}, {5, 5}, {5, 3}, {5, -1}, {1, 0}, {3000, 400}, {3000, 3000}, {3000, 2999}, {10, 10}, {100000, 1},
	} {
		probes := 0
		got, err := MostThatFit(tc.most, func(k int) (bool, error) {
			probes++
			if k < 0 || k > tc.most {
				t.Fatalf("most %d: probed %d", tc.most, k)
			}
			return k <= tc.fit, nil
		})
		if err != nil || got > tc.fit || (tc.fit >= 0 && got < tc.fit-tc.fit/8) || (tc.fit < 0 && got != -1) {
			t.Errorf("MostThatFit(%d) with %d fitting = %d, %v", tc.most, tc.fit, got, err)
		}
		if probes > 30 {
			t.Errorf("MostThatFit(%d) with %d fitting: %d probes", tc.most, tc.fit, probes)
		}
	}
	boom := errors.New("boom")
	if _, err := MostThatFit(10, func(k int) (bool, error) { return k < 5, map[bool]error{true: boom}[k == 7] }); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
}
