package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// This file derives the set of configuration keys, their value kinds and
// their environment variable names from the koanf struct tags, so that a new
// field automatically gets a YAML key, an env var and (for secrets) *_file
// variants.

// envPrefix is the prefix of every notifyd environment variable.
const envPrefix = "NOTIFYD_"

// systemsEnvPrefix prefixes per-system environment variables.
const systemsEnvPrefix = envPrefix + "SYSTEMS_"

// fileSuffix is appended to a secret key to name a file holding it.
const fileSuffix = "_file"

// valueKind is the type of a leaf setting.
type valueKind int

const (
	kindString valueKind = iota
	kindSecret
	kindSecretList
	kindStringList
	kindDuration
	kindInt
	kindFloat
	kindBool
	kindAPIKeys
	kindRelays
	kindTwilioAccounts
	kindPaceGroups
)

// leaf is one settable key.
type leaf struct {
	key     string       // dotted key relative to its scope: "channels.smtp.host" or (system scope) "caldav_url"
	kind    valueKind    // value type
	typ     reflect.Type // Go type of the field
	index   []int        // reflect field index from the scope's struct (Config or System)
	env     string       // global: full env var name; system scope: FIELD suffix such as "CALDAV_URL"
	aliases []string     // extra env var names (envalias tag), global scope only
}

// secret reports whether the leaf accepts a *_file variant.
func (l *leaf) secret() bool { return l.kind == kindSecret || l.kind == kindSecretList }

// node is one level of the YAML key tree.
type node struct {
	children map[string]*node // group keys
	leaf     *leaf            // the key holds a value
	fileFor  *leaf            // the key is <secret>_file
	systems  bool             // the key is the systems map
}

var (
	secretType     = reflect.TypeFor[Secret]()
	secretListType = reflect.TypeFor[[]Secret]()
	stringListType = reflect.TypeFor[[]string]()
	durationType   = reflect.TypeFor[time.Duration]()
	systemsType    = reflect.TypeFor[map[string]*System]()

	globalLeaves = buildLeaves(reflect.TypeFor[Config](), true)
	systemLeaves = buildLeaves(reflect.TypeFor[System](), false)

	globalTree = buildTree(globalLeaves, true)
	systemTree = buildTree(systemLeaves, false)

	// globalEnv maps every global env var name (including *_FILE variants
	// and aliases) to its leaf; fileVar tells whether it is a *_FILE name.
	globalEnv = buildGlobalEnv()

	// systemEnvSuffixes are the per-system FIELD suffixes (with a leading
	// "_"), longest first.
	systemEnvSuffixes = buildSystemSuffixes()
)

// envRef is what an environment variable name refers to.
type envRef struct {
	leaf    *leaf
	fileVar bool
}

// buildLeaves walks the struct type t and returns its leaves. The systems
// map is skipped (it has its own scope).
func buildLeaves(t reflect.Type, global bool) []*leaf {
	var out []*leaf
	var walk func(t reflect.Type, path []string, index []int)
	walk = func(t reflect.Type, path []string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("koanf")
			if !f.IsExported() || tag == "" || tag == "-" {
				continue
			}
			p := append(slices.Clone(path), tag)
			idx := append(slices.Clone(index), i)
			if f.Type == systemsType {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, p, idx)
				continue
			}
			l := &leaf{
				key:   strings.Join(p, "."),
				kind:  kindOf(f.Type),
				typ:   f.Type,
				index: idx,
			}
			env := strings.ToUpper(strings.Join(p, "_"))
			if global {
				l.env = envPrefix + env
				if a := f.Tag.Get("envalias"); a != "" {
					l.aliases = strings.Split(a, ",")
				}
			} else {
				l.env = env
			}
			out = append(out, l)
		}
	}
	walk(t, nil, nil)
	return out
}

// kindOf maps a field type to its valueKind; it panics on an unsupported
// type so that adding one is caught by any test.
func kindOf(t reflect.Type) valueKind {
	switch {
	case t == secretType:
		return kindSecret
	case t == secretListType:
		return kindSecretList
	case t == stringListType:
		return kindStringList
	case t == durationType:
		return kindDuration
	case t == apiKeysType:
		return kindAPIKeys
	case t == relaysType:
		return kindRelays
	case t == twilioAccountsType:
		return kindTwilioAccounts
	case t == paceGroupsType:
		return kindPaceGroups
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Int, reflect.Int64:
		return kindInt
	case reflect.Float64:
		return kindFloat
	case reflect.Bool:
		return kindBool
	}
	panic(fmt.Sprintf("config: unsupported field type %s", t))
}

// buildTree turns leaves into the YAML key tree.
func buildTree(leaves []*leaf, global bool) *node {
	root := &node{children: map[string]*node{}}
	for _, l := range leaves {
		parts := strings.Split(l.key, ".")
		n := root
		for _, p := range parts[:len(parts)-1] {
			c := n.children[p]
			if c == nil {
				c = &node{children: map[string]*node{}}
				n.children[p] = c
			}
			n = c
		}
		last := parts[len(parts)-1]
		n.children[last] = &node{leaf: l}
		if l.secret() {
			n.children[last+fileSuffix] = &node{fileFor: l}
		}
	}
	if global {
		root.children["systems"] = &node{systems: true}
	}
	return root
}

func buildGlobalEnv() map[string]envRef {
	m := map[string]envRef{}
	add := func(name string, r envRef) {
		if _, dup := m[name]; dup {
			panic("config: duplicate environment variable " + name)
		}
		m[name] = r
	}
	for _, l := range globalLeaves {
		add(l.env, envRef{leaf: l})
		if l.secret() {
			add(l.env+"_FILE", envRef{leaf: l, fileVar: true})
		}
		for _, a := range l.aliases {
			add(a, envRef{leaf: l})
		}
	}
	return m
}

// systemSuffix is a per-system env FIELD suffix.
type systemSuffix struct {
	suffix  string // "_CALDAV_URL"
	leaf    *leaf
	fileVar bool
}

func buildSystemSuffixes() []systemSuffix {
	var out []systemSuffix
	for _, l := range systemLeaves {
		out = append(out, systemSuffix{suffix: "_" + l.env, leaf: l})
		if l.secret() {
			out = append(out, systemSuffix{suffix: "_" + l.env + "_FILE", leaf: l, fileVar: true})
		}
	}
	slices.SortStableFunc(out, func(a, b systemSuffix) int { return len(b.suffix) - len(a.suffix) })
	return out
}

// envVarNames returns every environment variable name notifyd reads, with
// per-system variables written as NOTIFYD_SYSTEMS_<NAME>_<FIELD>. It is
// used by the documentation tests.
func envVarNames() []string {
	var out []string
	for name := range globalEnv {
		out = append(out, name)
	}
	for _, s := range systemEnvSuffixes {
		out = append(out, systemsEnvPrefix+"<NAME>"+s.suffix)
	}
	slices.Sort(out)
	return out
}

// systemEnvName returns the env var name for a system leaf and system name,
// using the normalisation env matching applies.
func systemEnvName(system string, l *leaf) string {
	return systemsEnvPrefix + envNormalize(system) + "_" + l.env
}

// envNormalize upper-cases name and maps every non-alphanumeric character
// to "_", the form system names are matched in.
func envNormalize(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
