package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Error is returned by Load and Validate. It lists every problem found,
// each as "<key or env var>: <what is wrong and what to do>".
type Error struct {
	// File is the configuration file that was read, or "" when none was.
	File string
	// Problems are the individual problems, in a stable order.
	Problems []string
}

// Error implements error.
func (e *Error) Error() string {
	head := "config"
	if e.File != "" {
		head += " " + e.File
	}
	if len(e.Problems) == 1 {
		return head + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n  - %s", head, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// problems collects messages.
type problems struct {
	list []string
	// envOf maps a key (e.g. "systems.x.caldav_url") to the env var that
	// set it, so validation messages can name it.
	envOf map[string]string
	// failed holds the keys whose value could not be decoded or read;
	// validation does not report them a second time.
	failed map[string]bool
}

// add records a problem about key (a YAML key path or env var name).
func (p *problems) add(key, format string, args ...any) {
	if p.failed[key] {
		return
	}
	if env, ok := p.envOf[key]; ok {
		key += " (from " + env + ")"
	}
	p.list = append(p.list, key+": "+fmt.Sprintf(format, args...))
}

// err returns the collected problems as an *Error, or nil.
func (p *problems) err(file string) error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{File: file, Problems: p.list}
}

// setting is one value for a leaf, from one source.
type setting struct {
	value  any    // typed value; nil when file is set
	file   string // path of the file holding a secret (the *_file form)
	source string // YAML key or env var that set it
	env    bool   // whether source is an env var
}

// layer holds the settings from one source (file or environment).
type layer struct {
	global  map[string]setting            // leaf key -> setting
	systems map[string]map[string]setting // system name -> leaf key -> setting
}

func newLayer() *layer {
	return &layer{global: map[string]setting{}, systems: map[string]map[string]setting{}}
}

// loader carries state through one Load.
type loader struct {
	p       problems
	baseDir string // directory of the config file, for relative *_file paths
}

// Load reads the YAML file at path ("" means no file: defaults plus
// environment only), applies overrides from environ (KEY=VALUE strings, as
// from os.Environ), reads *_file secrets, fills defaults and validates the
// result. The returned error is an *Error listing every problem found.
func Load(path string, environ []string) (*Config, error) {
	ld := &loader{p: problems{envOf: map[string]string{}, failed: map[string]bool{}}}
	fileLayer := newLayer()
	if path != "" {
		k := koanf.New(".")
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, &Error{File: path, Problems: []string{describeReadError(err)}}
		}
		if abs, err := filepath.Abs(path); err == nil {
			ld.baseDir = filepath.Dir(abs)
		} else {
			ld.baseDir = filepath.Dir(path)
		}
		ld.walk(k.Raw(), globalTree, "", fileLayer, fileLayer.global)
	}
	envLayer, unknown := ld.readEnv(environ, fileLayer)

	cfg := Default()
	cfg.unknownEnv = unknown
	ld.apply(reflect.ValueOf(cfg).Elem(), globalLeaves, "", fileLayer.global, envLayer.global)

	names := map[string]bool{}
	for n := range fileLayer.systems {
		names[n] = true
	}
	for n := range envLayer.systems {
		names[n] = true
	}
	for _, name := range sortedKeys(names) {
		sys := defaultSystem(name)
		ld.apply(reflect.ValueOf(sys).Elem(), systemLeaves, "systems."+name+".",
			fileLayer.systems[name], envLayer.systems[name])
		cfg.Systems[name] = sys
	}

	// The file of api_keys, as apply chose it, is watched for rotation.
	s, ok := envLayer.global["api_keys"]
	if !ok {
		s, ok = fileLayer.global["api_keys"]
	}
	if ok && s.file != "" {
		cfg.apiKeysFile = s.file
	}
	ld.readAPIKeyFiles(cfg)
	ld.readRelayFiles(cfg)
	ld.readTwilioTokenFiles(cfg)
	cfg.normalize()
	cfg.validate(&ld.p)
	if err := ld.p.err(path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// describeReadError turns a koanf file/parse error into a problem line.
func describeReadError(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "file does not exist; pass an existing file with -config or NOTIFYD_CONFIG, or none to run on defaults"
	}
	return "cannot read or parse as YAML: " + err.Error()
}

// walk decodes the YAML map m at tree node n (key prefix prefix) into ly.
// dst is the setting map of the current scope (global or one system).
func (ld *loader) walk(m map[string]any, n *node, prefix string, ly *layer, dst map[string]setting) {
	for _, k := range sortedKeys(m) {
		v := m[k]
		full := prefix + k
		c, ok := n.children[k]
		if !ok {
			ld.p.add(full, "unknown key%s; see docs/configuration.md for the valid keys", suggest(k, n.children))
			continue
		}
		switch {
		case c.systems:
			if v == nil {
				continue
			}
			sm, ok := v.(map[string]any)
			if !ok {
				ld.p.add(full, "must be a map of system name to settings, e.g. systems: {localBedework: {caldav_url: ..., tokens: [...]}}")
				continue
			}
			for _, name := range sortedKeys(sm) {
				sub, ok := sm[name].(map[string]any)
				if !ok && sm[name] != nil {
					ld.p.add(full+"."+name, "must be a map of settings (caldav_url, tokens, ...)")
					continue
				}
				if ly.systems[name] == nil {
					ly.systems[name] = map[string]setting{}
				}
				ld.walk(sub, systemTree, full+"."+name+".", ly, ly.systems[name])
			}
		case c.leaf != nil:
			if v == nil {
				continue // "key:" with no value leaves the default
			}
			if c.leaf.secret() && isEmptyValue(v) {
				// An empty secret equals the default; ignoring it lets
				// "password: ''" sit next to a filled-in password_file.
				continue
			}
			val, err := decodeYAML(c.leaf, v)
			if err != nil {
				ld.p.add(full, "%s", err)
				ld.p.failed[prefixKey(prefix, c.leaf)] = true
				continue
			}
			ld.put(dst, c.leaf, setting{value: val, source: full})
		case c.fileFor != nil:
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok || s == "" {
				ld.p.add(full, "must be the path of a file holding the secret")
				ld.p.failed[prefixKey(prefix, c.fileFor)] = true
				continue
			}
			if !filepath.IsAbs(s) {
				s = filepath.Join(ld.baseDir, s)
			}
			ld.put(dst, c.fileFor, setting{file: s, source: full})
		default:
			if v == nil {
				continue
			}
			sub, ok := v.(map[string]any)
			if !ok {
				ld.p.add(full, "must be a map with keys %s", strings.Join(sortedKeys(c.children), ", "))
				continue
			}
			ld.walk(sub, c, full+".", ly, dst)
		}
	}
}

// put records s for leaf l in dst, reporting a conflict when the same
// source layer already set it (value and *_file, or two env aliases with
// different values).
func (ld *loader) put(dst map[string]setting, l *leaf, s setting) {
	if prev, ok := dst[l.key]; ok {
		if prev.file == "" && s.file == "" && reflect.DeepEqual(prev.value, s.value) {
			return
		}
		ld.p.add(prev.source, "also set as %s; set only one of them", s.source)
		return
	}
	dst[l.key] = s
}

// decodeYAML converts a YAML value for leaf l. Error messages never contain
// the value, which may be a secret.
func decodeYAML(l *leaf, v any) (any, error) {
	switch l.kind {
	case kindString, kindSecret:
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("must be a string; put the value in quotes")
		}
		return s, nil
	case kindSecretList:
		items, ok := v.([]any)
		if !ok {
			return nil, errors.New(`must be a list of strings, e.g. ["first", "second"]`)
		}
		out := make([]Secret, 0, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string; put it in quotes", i)
			}
			out = append(out, Secret(s))
		}
		return out, nil
	case kindStringList:
		items, ok := v.([]any)
		if !ok {
			return nil, errors.New(`must be a list of strings, e.g. ["first", "second"]`)
		}
		var out []string // nil for an empty list, as when the key is unset
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string; put it in quotes", i)
			}
			out = append(out, s)
		}
		return out, nil
	case kindDuration:
		s, ok := v.(string)
		if !ok {
			return nil, errors.New(`must be a duration with a unit, such as "30s" or "2m"`)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf(`%q is not a duration; use Go syntax such as "30s" or "2m"`, s)
		}
		return d, nil
	case kindInt:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return checkIntRange(l, rv.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if rv.Uint() > math.MaxInt64 {
				return nil, errors.New("is too large")
			}
			return checkIntRange(l, int64(rv.Uint()))
		case reflect.Float32, reflect.Float64:
			f := rv.Float()
			if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
				return checkIntRange(l, int64(f))
			}
		}
		return nil, errors.New("must be a whole number")
	case kindFloat:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return float64(rv.Int()), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return float64(rv.Uint()), nil
		case reflect.Float32, reflect.Float64:
			return rv.Float(), nil
		}
		return nil, errors.New("must be a number")
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case kindAPIKeys:
		return apiKeyList.decode(v)
	case kindRelays:
		return relayList.decode(v)
	case kindTwilioAccounts:
		return twilioAccountList.decode(v)
	case kindPaceGroups:
		return paceGroupList.decode(v)
	}
	return nil, fmt.Errorf("unsupported kind %d", l.kind)
}

func checkIntRange(l *leaf, n int64) (any, error) {
	bits := uint(l.typ.Bits())
	if bits < 64 && (n < -(1<<(bits-1)) || n >= 1<<(bits-1)) {
		return nil, errors.New("is out of range")
	}
	return n, nil
}

// parseEnv converts an environment value for leaf l. Error messages name
// the variable and never contain a secret value.
func parseEnv(l *leaf, name, v string) (any, error) {
	switch l.kind {
	case kindString, kindSecret:
		return v, nil
	case kindSecretList:
		var out []Secret
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, Secret(s))
			}
		}
		return out, nil
	case kindStringList:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a duration; use Go syntax such as 15s or 2m", name, v)
		}
		return d, nil
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, l.typ.Bits())
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		return n, nil
	case kindFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", name, v)
		}
		return f, nil
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a boolean; use true or false", name, v)
		}
		return b, nil
	case kindAPIKeys:
		return apiKeyList.parseEnv(name, v)
	case kindRelays:
		return relayList.parseEnv(name, v)
	case kindTwilioAccounts:
		return twilioAccountList.parseEnv(name, v)
	case kindPaceGroups:
		return paceGroupList.parseEnv(name, v)
	}
	return nil, fmt.Errorf("%s: unsupported kind %d", name, l.kind)
}

// readEnv builds the environment layer. System names are matched against
// the systems of fileLayer. It returns the NOTIFYD_* names that match no
// setting.
func (ld *loader) readEnv(environ []string, fileLayer *layer) (*layer, []string) {
	ly := newLayer()
	vars := map[string]string{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		if _, dup := vars[name]; !dup { // first wins, like os.Getenv
			vars[name] = val
		}
	}
	var unknown []string
	known := sortedKeys(fileLayer.systems)
	for _, name := range sortedKeys(vars) {
		val := vars[name]
		if name == "NOTIFYD_CONFIG" {
			continue // the config file path, read by main
		}
		if ref, ok := globalEnv[name]; ok {
			if val == "" {
				continue // empty means unset
			}
			ld.putEnv(ly.global, ref.leaf, ref.fileVar, name, val, ref.leaf.key)
			continue
		}
		if rest, ok := strings.CutPrefix(name, systemsEnvPrefix); ok {
			var match *systemSuffix
			for i := range systemEnvSuffixes {
				s := &systemEnvSuffixes[i]
				if len(rest) > len(s.suffix) && strings.HasSuffix(rest, s.suffix) {
					match = s
					break
				}
			}
			if match == nil {
				ld.p.add(name, "not a system setting; use NOTIFYD_SYSTEMS_<NAME>_<FIELD> with FIELD one of %s", systemFieldList())
				continue
			}
			if val == "" {
				continue
			}
			envName := strings.TrimSuffix(rest, match.suffix)
			sys, err := matchSystem(envName, known)
			if err != nil {
				ld.p.add(name, "%s", err)
				continue
			}
			if !slices.Contains(known, sys) {
				known = append(known, sys)
			}
			if ly.systems[sys] == nil {
				ly.systems[sys] = map[string]setting{}
			}
			ld.putEnv(ly.systems[sys], match.leaf, match.fileVar, name, val, "systems."+sys+"."+match.leaf.key)
			continue
		}
		unknown = append(unknown, name)
	}
	return ly, unknown
}

// putEnv parses one env var and records it; fullKey is the leaf's full
// YAML key, used to attribute validation messages to the variable.
func (ld *loader) putEnv(dst map[string]setting, l *leaf, fileVar bool, name, val, fullKey string) {
	s := setting{source: name, env: true}
	if fileVar {
		s.file = val
	} else {
		v, err := parseEnv(l, name, val)
		if err != nil {
			ld.p.list = append(ld.p.list, err.Error())
			ld.p.failed[fullKey] = true
			return
		}
		s.value = v
	}
	ld.put(dst, l, s)
	if cur, ok := dst[l.key]; ok && cur.source == name {
		ld.p.envOf[fullKey] = name
	}
}

// matchSystem resolves the NAME part of a NOTIFYD_SYSTEMS_<NAME>_<FIELD>
// variable: an existing system whose name, upper-cased with every
// non-alphanumeric mapped to "_", equals NAME (case-insensitively); else a
// new system named NAME lower-cased.
func matchSystem(envName string, known []string) (string, error) {
	want := strings.ToUpper(envName)
	var hits []string
	for _, k := range known {
		if envNormalize(k) == want {
			hits = append(hits, k)
		}
	}
	switch len(hits) {
	case 0:
		return strings.ToLower(envName), nil
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("matches several systems (%s); rename them so they differ in letters or digits", strings.Join(hits, ", "))
}

func systemFieldList() string {
	var names []string
	for _, l := range systemLeaves {
		names = append(names, l.env)
		if l.secret() {
			names = append(names, l.env+"_FILE")
		}
	}
	return strings.Join(names, ", ")
}

// apply sets every leaf of the struct v from the environment layer, else
// the file layer, else leaves the default. prefix is the key prefix of the
// scope ("" or "systems.<name>.").
func (ld *loader) apply(v reflect.Value, leaves []*leaf, prefix string, fileSet, envSet map[string]setting) {
	for _, l := range leaves {
		s, ok := envSet[l.key]
		if !ok {
			s, ok = fileSet[l.key]
		}
		if !ok {
			continue
		}
		val := s.value
		if s.file != "" {
			var err error
			val, err = readSecretFile(l, s.file)
			if err != nil {
				ld.p.add(s.source, "%s", err)
				ld.p.failed[prefix+l.key] = true
				continue
			}
		}
		f := v.FieldByIndex(l.index)
		switch x := val.(type) {
		case string:
			f.SetString(x)
		case []Secret, []string, []APIKey, []SMTPRelay, []TwilioAccount, []PaceGroup:
			f.Set(reflect.ValueOf(x))
		case time.Duration:
			f.SetInt(int64(x))
		case int64:
			f.SetInt(x)
		case float64:
			f.SetFloat(x)
		case bool:
			f.SetBool(x)
		default:
			panic(fmt.Sprintf("config: %s%s: unexpected value type %T", prefix, l.key, val))
		}
	}
}

// readSecretFile reads a *_file secret. A single secret is the file's
// content without trailing newlines; a list has one entry per line, blank
// lines and lines starting with "#" ignored.
func readSecretFile(l *leaf, path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read secret file: %w", err)
	}
	if l.kind == kindSecretList {
		var out []Secret
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, Secret(line))
		}
		return out, nil
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return nil, fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}

// normalize lower-cases enumerations and fills dependent defaults.
func (c *Config) normalize() {
	c.Log.Level = strings.ToLower(strings.TrimSpace(c.Log.Level))
	c.Log.Format = strings.ToLower(strings.TrimSpace(c.Log.Format))
	c.Channels.SMTP.TLS = strings.ToLower(strings.TrimSpace(c.Channels.SMTP.TLS))
	c.Channels.SMTP.DKIM.Algorithm = strings.ToLower(strings.TrimSpace(c.Channels.SMTP.DKIM.Algorithm))
	c.Channels.XMPP.TLS = strings.ToLower(strings.TrimSpace(c.Channels.XMPP.TLS))
	for _, s := range c.Systems {
		s.AfterDelivery = strings.ToLower(strings.TrimSpace(s.AfterDelivery))
	}
	burst := func(rate float64, b *int) {
		if rate > 0 && *b == 0 {
			*b = 1
		}
	}
	burst(c.Channels.SMTP.RateLimit, &c.Channels.SMTP.Burst)
	burst(c.Channels.Twilio.RateLimit, &c.Channels.Twilio.Burst)
	burst(c.Channels.XMPP.RateLimit, &c.Channels.XMPP.Burst)
	burst(c.Channels.Webhook.RateLimit, &c.Channels.Webhook.Burst)
}

// suggest returns ` (did you mean "x"?)` for the closest known key, or "".
func suggest(k string, known map[string]*node) string {
	best, bestD := "", 1<<30
	lk := strings.ToLower(k)
	for _, c := range sortedKeys(known) {
		d := levenshtein(lk, c)
		if strings.HasPrefix(lk, c) || strings.HasPrefix(c, lk) {
			d = min(d, 1) // "hostname" for "host", "caldav" for "caldav_url"
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(2, len(k)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// isEmptyValue reports whether a YAML value is "" or an empty list.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// prefixKey returns the full key of leaf l given the walk prefix of its
// parent map ("channels.smtp." or "systems.x.").
func prefixKey(prefix string, l *leaf) string {
	if strings.HasPrefix(prefix, "systems.") {
		return prefix + l.key
	}
	return l.key
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
