package notifyd_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The README and docs/ point at each other, at files, at make targets and
// at tests; these tests keep every such pointer true as the code and the
// docs move. (config/docs_test.go holds the configuration reference to the
// code.)

// markdownDocs returns README.md and every document under docs/.
func markdownDocs(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md (%v)", err)
	}
	return append([]string{"README.md"}, docs...)
}

// doc is a markdown document split into prose and code.
type doc struct {
	prose   []string // lines outside fenced code blocks
	code    []string // lines inside fenced code blocks
	anchors map[string]bool
}

var (
	inlineCodeRE = regexp.MustCompile("`[^`]+`")
	linkRE       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	makeRE       = regexp.MustCompile(`(?:^|[\s` + "`" + `])make ([a-z][a-z-]*)`)
	testNameRE   = regexp.MustCompile("`((?:Test|Benchmark)[A-Z][A-Za-z0-9_]*)`")
	benchFlagRE  = regexp.MustCompile(`-bench ([A-Z][A-Za-z0-9_]*)`)
	testFuncRE   = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)[A-Za-z0-9_]+)\(`)
)

func readDoc(t *testing.T, path string) doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			d.code = append(d.code, line)
			continue
		}
		d.prose = append(d.prose, line)
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			a := slug(h)
			if n := seen[a]; n > 0 {
				d.anchors[a+"-"+strconv.Itoa(n)] = true
			} else {
				d.anchors[a] = true
			}
			seen[a]++
		}
	}
	return d
}

// slug is GitHub's anchor for a heading: lower case, spaces as hyphens,
// every character but letters, digits, '-' and '_' dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinksResolve checks every relative link in the README and docs/
// names a file that exists and, into a markdown file, a heading it has.
func TestDocsLinksResolve(t *testing.T) {
	for _, path := range markdownDocs(t) {
		d := readDoc(t, path)
		for _, line := range d.prose {
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				resolved := path
				if file != "" {
					resolved = filepath.Join(filepath.Dir(path), file)
					if _, err := os.Stat(resolved); err != nil {
						t.Errorf("%s links to %s, which does not exist", path, target)
						continue
					}
				}
				if anchor != "" && strings.HasSuffix(resolved, ".md") && !readDoc(t, resolved).anchors[anchor] {
					t.Errorf("%s links to %s, but %s has no heading #%s", path, target, resolved, anchor)
				}
			}
		}
	}
}

// TestDocsNameRealMakeTargetsAndTests checks the make targets, tests and
// benchmarks the README and docs/ tell people to run exist.
func TestDocsNameRealMakeTargetsAndTests(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]bool{}
	err = filepath.WalkDir(".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		for _, m := range testFuncRE.FindAllStringSubmatch(string(b), -1) {
			funcs[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range markdownDocs(t) {
		d := readDoc(t, path)
		var commands []string // code spans and code blocks: what people type
		for _, line := range d.prose {
			commands = append(commands, inlineCodeRE.FindAllString(line, -1)...)
		}
		commands = append(commands, d.code...)
		for _, c := range commands {
			for _, m := range makeRE.FindAllStringSubmatch(c, -1) {
				if !regexp.MustCompile(`(?m)^` + m[1] + `:`).Match(makefile) {
					t.Errorf("%s: `make %s`: the Makefile has no target %s", path, m[1], m[1])
				}
			}
			for _, m := range benchFlagRE.FindAllStringSubmatch(c, -1) {
				if !hasPrefixed(funcs, "Benchmark"+m[1]) {
					t.Errorf("%s: -bench %s matches no benchmark", path, m[1])
				}
			}
		}
		for _, line := range d.prose {
			for _, m := range testNameRE.FindAllStringSubmatch(line, -1) {
				if !funcs[m[1]] {
					t.Errorf("%s names %s, which is not a test", path, m[1])
				}
			}
		}
	}
}

// hasPrefixed reports whether a name in set starts with prefix (-bench is
// a pattern, so CalDAVToEmail runs BenchmarkCalDAVToEmail…).
func hasPrefixed(set map[string]bool, prefix string) bool {
	for name := range set {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
