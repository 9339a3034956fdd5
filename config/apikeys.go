package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// APIKey is one named API key of named_api_keys: a secret (inline, or
// in a file re-read on rotation), a role and an optional scope.
type APIKey struct {
	// Name identifies the key in the audit trail and the logs.
	Name string `json:"name"`
	// Key is the secret; KeyFile the file holding it (one of the two).
	// After Load, Key holds the file's content.
	Key     Secret `json:"key"`
	KeyFile string `json:"key_file"`
	// Role is admin, operator or viewer.
	Role string `json:"role"`
	// Systems scope the key; none: every system.
	Systems []string `json:"systems"`
	// fromFile: Key was read from KeyFile.
	fromFile bool
}

// apiKeysType is the type of named_api_keys.
var apiKeysType = reflect.TypeFor[[]APIKey]()

// The roles a named key may have.
var apiKeyRoles = []string{"admin", "operator", "viewer"}

// legacyKeyName matches the names of the keys of api_keys (key-1, key-2...),
// which named keys may not take.
var legacyKeyName = regexp.MustCompile(`^key-[0-9]+$`)

// apiKeyName is what a key's name may be: short and plain, as it is shown
// in the audit trail and queried by.
var apiKeyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// apiKeyList is named_api_keys as a list of maps.
var apiKeyList = mapList[APIKey]{
	noun: "key", fields: "name, key or key_file, role and optionally systems",
	example:     `[{name: ops, key_file: /run/secrets/ops, role: operator, systems: [campus]}]`,
	jsonExample: `[{"name":"ops","key_file":"/run/secrets/ops","role":"operator"}]`,
	set: func(k *APIKey, f string, val any) (err error) {
		switch f {
		case "name":
			k.Name, err = stringField(f, val)
		case "key":
			var s string
			s, err = stringField(f, val)
			k.Key = Secret(s)
		case "key_file":
			k.KeyFile, err = stringField(f, val)
		case "role":
			k.Role, err = stringField(f, val)
		case "systems":
			list, ok := val.([]any)
			if !ok {
				return errors.New("systems must be a list of system names")
			}
			for _, s := range list {
				name, ok := s.(string)
				if !ok {
					return errors.New("systems must be a list of system names")
				}
				k.Systems = append(k.Systems, name)
			}
		default:
			return errUnknownField
		}
		return err
	},
}

// readAPIKeyFiles resolves each key_file against baseDir (the config
// file's directory) and reads it into Key: the file's content without
// trailing newlines.
func (ld *loader) readAPIKeyFiles(c *Config) {
	for i := range c.NamedAPIKeys {
		k := &c.NamedAPIKeys[i]
		if k.KeyFile == "" {
			continue
		}
		if !filepath.IsAbs(k.KeyFile) && ld.baseDir != "" {
			k.KeyFile = filepath.Join(ld.baseDir, k.KeyFile)
		}
		if k.Key != "" {
			continue // validate says to choose
		}
		v, err := readSecretFile(&leaf{kind: kindSecret}, k.KeyFile)
		if err != nil {
			ld.p.add(fmt.Sprintf("named_api_keys[%s].key_file", k.Name), "%s", err)
			continue
		}
		k.Key, k.fromFile = Secret(v.(string)), true
	}
}

// validateAPIKeys checks named_api_keys.
func (c *Config) validateAPIKeys(p *problems) {
	names := map[string]bool{}
	for i, k := range c.NamedAPIKeys {
		at := fmt.Sprintf("named_api_keys[%d]", i+1)
		if k.Name != "" {
			at = "named_api_keys[" + k.Name + "]"
		}
		switch {
		case !apiKeyName.MatchString(k.Name):
			p.add(at+".name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
		case legacyKeyName.MatchString(k.Name):
			p.add(at+".name", "key-1, key-2... name the keys of api_keys; choose another name")
		case names[k.Name]:
			p.add(at+".name", "is the name of another key; give each key its own name")
		}
		names[k.Name] = true
		switch {
		case k.KeyFile != "" && k.Key != "" && !k.fromFile:
			p.add(at, "set key or key_file, not both")
		case k.KeyFile != "" && !k.fromFile:
			// The file could not be read: readAPIKeyFiles said why.
		case strings.TrimSpace(k.Key.Reveal()) == "":
			p.add(at, "has no key; set key_file (a file holding the key) or key")
		}
		if !slices.Contains(apiKeyRoles, k.Role) {
			p.add(at+".role", "must be admin, operator or viewer")
		}
		for _, s := range k.Systems {
			if _, ok := c.Systems[s]; !ok {
				p.add(at+".systems", "%q is not a configured system", s)
			}
		}
	}
}

// KeyFiles are the files the API keys were read from (api_keys_file and
// the key_file of named keys), which notifyd watches for rotation with
// the configuration file.
func (c *Config) KeyFiles() []string {
	var out []string
	if c.apiKeysFile != "" {
		out = append(out, c.apiKeysFile)
	}
	for _, k := range c.NamedAPIKeys {
		if k.KeyFile != "" {
			out = append(out, k.KeyFile)
		}
	}
	return out
}
