package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const keysSystems = `systems:
  campus: {caldav_url: "https://cal.example.org/", tokens: ["token-0123456789"]}
  hospital: {caldav_url: "https://cal.example.org/", tokens: ["token-9876543210"]}
`

func loadKeys(t *testing.T, yaml string, env ...string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ops.key"), []byte("file-key-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "notifyd.yaml")
	if err := os.WriteFile(path, []byte(keysSystems+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path, env)
}

func TestNamedAPIKeys(t *testing.T) {
	c, err := loadKeys(t, `api_keys: ["legacy-key-0123456789"]
named_api_keys:
  - {name: campus-ops, key_file: ops.key, role: operator, systems: [campus]}
  - {name: auditor, key: "inline-key-0123456789", role: viewer}
`)
	if err != nil {
		t.Fatal(err)
	}
	k := c.NamedAPIKeys
	if len(k) != 2 || k[0].Name != "campus-ops" || k[0].Key.Reveal() != "file-key-0123456789" || k[0].Role != "operator" ||
		len(k[0].Systems) != 1 || k[0].Systems[0] != "campus" || k[1].Key.Reveal() != "inline-key-0123456789" || k[1].Systems != nil {
		t.Fatalf("%+v", k)
	}
	if files := c.KeyFiles(); len(files) != 1 || filepath.Base(files[0]) != "ops.key" || !filepath.IsAbs(files[0]) {
		t.Errorf("key files %q", files)
	}

	c, err = loadKeys(t, "", `NOTIFYD_NAMED_API_KEYS=[{"name":"ops","key":"env-key-0123456789","role":"admin","systems":["hospital"]}]`)
	if err != nil {
		t.Fatal(err)
	}
	if k := c.NamedAPIKeys; len(k) != 1 || k[0].Key.Reveal() != "env-key-0123456789" || k[0].Systems[0] != "hospital" {
		t.Fatalf("from the environment: %+v", k)
	}
}

func TestNamedAPIKeysInvalid(t *testing.T) {
	for yaml, want := range map[string]string{
		"named_api_keys: [{name: a, key: k-0123456789, role: root}]":                                              "named_api_keys[a].role: must be admin, operator or viewer",
		"named_api_keys: [{name: a, key: k-0123456789, role: viewer, systems: [mars]}]":                           `named_api_keys[a].systems: "mars" is not a configured system`,
		"named_api_keys: [{name: a, key: k-0123456789, key_file: ops.key, role: viewer}]":                         "named_api_keys[a]: set key or key_file, not both",
		"named_api_keys: [{name: a, role: viewer}]":                                                               "named_api_keys[a]: has no key",
		"named_api_keys: [{name: key-2, key: k-0123456789, role: viewer}]":                                        "key-1, key-2... name the keys of api_keys",
		"named_api_keys: [{name: a, key: k-0123456789, role: viewer}, {name: a, key: k-1234567890, role: admin}]": "is the name of another key",
		"named_api_keys: [{name: a, key_file: missing.key, role: viewer}]":                                        "named_api_keys[a].key_file: cannot read secret file",
		"named_api_keys: [{name: a, key: k-0123456789, role: viewer, scope: x}]":                                  `unknown key "scope"`,
		"named_api_keys: {name: a}": "must be a list of keys",
	} {
		_, err := loadKeys(t, yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%s: the error shows a key: %v", yaml, err)
		}
	}
}
