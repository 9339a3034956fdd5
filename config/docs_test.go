package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

const (
	examplePath = "../notifyd.example.yaml"
	// docsPath holds the configuration reference table.
	docsPath = "../docs/configuration.md"
)

// proseDocs are the other documents that may name environment variables.
var proseDocs = []string{"../README.md", "../docs/*.md"}

// docRow is one expected row of the reference table in docs/configuration.md.
type docRow struct {
	key  string
	envs []string
	def  string // "—" for empty
}

// expectedDocRows derives the reference table from the structs.
func expectedDocRows() []docRow {
	var rows []docRow
	add := func(key string, envs []string, l *leaf, v reflect.Value) {
		rows = append(rows, docRow{key: key, envs: envs, def: defaultText(l, v)})
		if l.secret() {
			fileEnvs := []string{envs[0] + "_FILE"}
			rows = append(rows, docRow{key: key + fileSuffix, envs: fileEnvs, def: "—"})
		}
	}
	d := reflect.ValueOf(Default()).Elem()
	for _, l := range globalLeaves {
		add(l.key, append([]string{l.env}, l.aliases...), l, d.FieldByIndex(l.index))
	}
	s := reflect.ValueOf(defaultSystem("x")).Elem()
	for _, l := range systemLeaves {
		add("systems.<name>."+l.key, []string{systemsEnvPrefix + "<NAME>_" + l.env}, l, s.FieldByIndex(l.index))
	}
	return rows
}

// defaultText renders a default as the docs show it.
func defaultText(l *leaf, v reflect.Value) string {
	switch l.kind {
	case kindString, kindSecret:
		if v.String() == "" {
			return "—"
		}
		return v.String()
	case kindSecretList, kindStringList, kindAPIKeys, kindRelays, kindTwilioAccounts:
		return "—"
	case kindPaceGroups:
		// The docs name the built-in groups; deliverability.md lists them.
		var names []string
		for _, g := range v.Interface().([]PaceGroup) {
			names = append(names, g.Name)
		}
		return strings.Join(names, ", ")
	case kindDuration:
		return time.Duration(v.Int()).String()
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	case kindFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case kindBool:
		return strconv.FormatBool(v.Bool())
	}
	panic("unreachable")
}

var envNameRE = regexp.MustCompile(`NOTIFYD_[A-Z0-9_<>]+`)

// docTable parses the reference table rows: key -> row.
func docTable(t *testing.T) map[string]docRow {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Errorf("malformed table row: %s", line)
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if _, dup := rows[key]; dup {
			t.Errorf("key %s documented twice", key)
		}
		rows[key] = docRow{
			key:  key,
			envs: envNameRE.FindAllString(cells[2], -1),
			def:  strings.Trim(strings.TrimSpace(cells[3]), "`"),
		}
	}
	return rows
}

func TestDocsReferenceTableMatchesStructs(t *testing.T) {
	got := docTable(t)
	want := expectedDocRows()
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.key] = true
		g, ok := got[w.key]
		if !ok {
			t.Errorf("%s: key %s is not documented (env %s, default %s)", docsPath, w.key, w.envs[0], w.def)
			continue
		}
		if !slices.Equal(g.envs, w.envs) {
			t.Errorf("%s: %s env vars = %v, want %v", docsPath, w.key, g.envs, w.envs)
		}
		if !sameDefault(w.def, g.def) {
			t.Errorf("%s: %s default = %q, want %q", docsPath, w.key, g.def, w.def)
		}
	}
	for k := range got {
		if !seen[k] {
			t.Errorf("%s documents %s, which is not a configuration key", docsPath, k)
		}
	}
}

// sameDefault compares defaults, treating durations by value (120s == 2m0s).
func sameDefault(want, got string) bool {
	if want == got {
		return true
	}
	w, err1 := time.ParseDuration(want)
	g, err2 := time.ParseDuration(got)
	return err1 == nil && err2 == nil && w == g
}

func TestDocsMentionEveryEnvVar(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range envVarNames() {
		if !strings.Contains(string(b), name) {
			t.Errorf("%s does not mention %s", docsPath, name)
		}
	}
}

// TestDocsMentionOnlyRealEnvVars checks every variable named in the README
// and in docs/ exists, so that moving or renaming a key cannot leave a
// stale name anywhere.
func TestDocsMentionOnlyRealEnvVars(t *testing.T) {
	var paths []string
	for _, pattern := range proseDocs {
		m, err := filepath.Glob(pattern)
		if err != nil || len(m) == 0 {
			t.Fatalf("no document matches %s (%v)", pattern, err)
		}
		paths = append(paths, m...)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envNameRE.FindAllString(string(b), -1) {
			if !knownEnvName(name) {
				t.Errorf("%s mentions %s, which notifyd does not read", p, name)
			}
		}
	}
}

// knownEnvName reports whether a NOTIFYD_ name found in the docs is one
// notifyd reads, or a prefix, pattern or test switch the docs may name.
func knownEnvName(name string) bool {
	if strings.HasSuffix(name, "_") || name == "NOTIFYD_CONFIG" || name == "NOTIFYD_SYSTEMS_<NAME>_<FIELD>" {
		return true // prefixes in prose, the file path, the pattern
	}
	if slices.ContainsFunc([]string{"NOTIFYD_TEST_", "NOTIFYD_FAULT_", "NOTIFYD_SOAK"}, func(p string) bool { return strings.HasPrefix(name, p) }) {
		return true // the test suites' own switches, not settings
	}
	if _, ok := globalEnv[name]; ok {
		return true
	}
	rest, ok := strings.CutPrefix(name, systemsEnvPrefix)
	return ok && slices.ContainsFunc(systemEnvSuffixes, func(s systemSuffix) bool {
		return len(rest) > len(s.suffix) && strings.HasSuffix(rest, s.suffix)
	})
}

func TestExampleLoads(t *testing.T) {
	c, err := Load(examplePath, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	sys := c.Systems["localBedework"]
	if len(c.Systems) != 1 || sys == nil {
		t.Fatalf("systems = %v, want only localBedework", sortedKeys(c.Systems))
	}
	if sys.CalDAVURL != "http://127.0.0.1:8008/" || len(sys.Tokens) != 1 {
		t.Errorf("localBedework = %+v", *sys)
	}
	// Apart from the sample system, the example shows the defaults.
	want := Default()
	want.Systems = map[string]*System{"localBedework": defaultSystem("localBedework")}
	want.Systems["localBedework"].CalDAVURL = sys.CalDAVURL
	want.Systems["localBedework"].Tokens = sys.Tokens
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example values differ from the defaults:\n got %+v\nwant %+v", c, want)
	}
	if !slices.ContainsFunc(c.Warnings(), func(w string) bool { return strings.Contains(w, "example placeholder") }) {
		t.Error("no warning about the example's placeholder token")
	}
}

func TestExampleHasEveryKey(t *testing.T) {
	k := koanf.New("/") // "/" because system names may contain "."
	if err := k.Load(file.Provider(examplePath), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for key := range k.KeyMap() {
		if len(k.KeyMap()[key]) > 0 && !isGroup(k, key) {
			got = append(got, strings.ReplaceAll(key, "/", "."))
		}
	}
	var want []string
	for _, r := range expectedDocRows() {
		want = append(want, strings.Replace(r.key, "<name>", "localBedework", 1))
	}
	slices.Sort(got)
	slices.Sort(want)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s lacks key %s", examplePath, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s has key %s, which is not a configuration key", examplePath, g)
		}
	}
	// Each key's comment names its env var.
	b, _ := os.ReadFile(examplePath)
	for _, name := range envVarNames() {
		name = strings.Replace(name, "<NAME>", "LOCALBEDEWORK", 1)
		if !strings.Contains(string(b), name) {
			t.Errorf("%s does not mention %s", examplePath, name)
		}
	}
}

// isGroup reports whether key holds a map (not a leaf value).
func isGroup(k *koanf.Koanf, key string) bool {
	_, ok := k.Get(key).(map[string]any)
	return ok
}
