package message

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/notifyd/notifyd"
)

// DefaultLang is the language of the templates used when the recipient's
// has none; every template set has it.
const DefaultLang = "en"

// Generic names the template file every language has ("generic.tmpl"),
// used for the notification types without their own.
const Generic = "generic"

// Files are a channel's template files: their contents by language (a
// lower-case tag, "en", "fr-ca") and file name ("reminder.tmpl").
//
// A language's files are TYPE.tmpl (TYPE a notification type, or
// [Generic]) and _NAME.tmpl for shared definitions; a language that lacks
// a shared file takes English's.
type Files map[string]map[string][]byte

// LoadTemplates reads the built-in templates, laid out as LANG/NAME.tmpl,
// and, when dir is not "", the files of dir laid out the same way: a file
// there replaces the built-in file of the same path, and a new LANG
// directory adds a language. Directories whose name starts with "." are
// skipped; "fr_CA" is read as "fr-ca". Every language must have
// generic.tmpl, and English must be there.
func LoadTemplates(builtin fs.FS, dir string) (Files, error) {
	files := Files{}
	if err := files.read(builtin); err != nil {
		return nil, fmt.Errorf("templates (built in): %w", err)
	}
	if dir != "" {
		if err := files.read(os.DirFS(dir)); err != nil {
			return nil, fmt.Errorf("templates %s: %w", dir, err)
		}
	}
	if files[DefaultLang] == nil {
		return nil, errors.New("templates: no English (en) templates")
	}
	for lang, fl := range files {
		if _, ok := fl[Generic+".tmpl"]; !ok {
			return nil, fmt.Errorf("templates: language %q has no %s.tmpl", lang, Generic)
		}
	}
	return files, nil
}

// read adds the files of fsys.
func (f Files) read(fsys fs.FS) error {
	langs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return err
	}
	for _, l := range langs {
		if !l.IsDir() || strings.HasPrefix(l.Name(), ".") {
			continue
		}
		lang := strings.ReplaceAll(strings.ToLower(l.Name()), "_", "-")
		entries, err := fs.ReadDir(fsys, l.Name())
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(l.Name(), e.Name()))
			if err != nil {
				return err
			}
			if f[lang] == nil {
				f[lang] = map[string][]byte{}
			}
			f[lang][e.Name()] = b
		}
	}
	return nil
}

// Source is one template file to parse.
type Source struct {
	// Name is how errors name the file: "fr/_common.tmpl".
	Name string
	Text string
}

// Types lists the notification types lang has a file for, [Generic]
// first.
func (f Files) Types(lang string) []string {
	types := []string{Generic}
	for name := range f[lang] {
		if !strings.HasPrefix(name, "_") && name != Generic+".tmpl" {
			types = append(types, strings.TrimSuffix(name, ".tmpl"))
		}
	}
	return types
}

// File is the file of lang for the notification type typ.
func (f Files) File(lang, typ string) Source {
	return Source{Name: lang + "/" + typ + ".tmpl", Text: string(f[lang][typ+".tmpl"])}
}

// Shared lists lang's shared definition files (_NAME.tmpl: its own, else
// English's), by name.
func (f Files) Shared(lang string) []Source {
	src := map[string][]byte{}
	for _, fl := range []map[string][]byte{f[DefaultLang], f[lang]} {
		for name, b := range fl {
			if strings.HasPrefix(name, "_") {
				src[name] = b
			}
		}
	}
	names := make([]string, 0, len(src))
	for name := range src {
		names = append(names, name)
	}
	sort.Strings(names)
	shared := make([]Source, len(names))
	for i, name := range names {
		shared[i] = Source{Name: lang + "/" + name, Text: string(src[name])}
	}
	return shared
}

// Layers lists the files the template of type typ in lang is parsed from,
// in order: the shared definitions, generic.tmpl, then the type's own
// file, so that a definition the type's file lacks comes from
// generic.tmpl.
func (f Files) Layers(lang, typ string) []Source {
	srcs := append(f.Shared(lang), f.File(lang, Generic))
	if typ != Generic {
		srcs = append(srcs, f.File(lang, typ))
	}
	return srcs
}

// Check calls render once for each type of each language, with a
// [Sample] notification of that type, and returns the first error: a
// template that parses but cannot run (a missing definition, an unknown
// field) is reported when the templates are loaded rather than at the
// first notification of its kind.
func (f Files) Check(render func(lang, typ string, n *notifyd.Notification) error) error {
	for lang := range f {
		for _, typ := range f.Types(lang) {
			if err := render(lang, typ, Sample(notifyd.NotificationType(typ))); err != nil {
				return err
			}
		}
	}
	return nil
}

// Pick chooses among the languages of langs the one for a locale: its
// exact tag, then its base language, then [DefaultLang]. It returns that
// language and the locale as a lower-case tag ("fr-ca"; DefaultLang when
// neither matched).
func Pick[T any](langs map[string]T, locale string) (lang, tag string) {
	tag = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	if _, ok := langs[tag]; ok && tag != "" {
		return tag, tag
	}
	base, _, _ := strings.Cut(tag, "-")
	if _, ok := langs[base]; ok && base != "" {
		return base, tag
	}
	return DefaultLang, DefaultLang
}

// Funcs returns the functions every channel's templates can call besides
// the built-in ones: join, lower, upper, and truncate (N, then the
// string: {{.Summary | truncate 40}}) that cuts with the channel's own
// truncate.
func Funcs(truncate func(s string, n int) string) map[string]any {
	return map[string]any{
		"join":     strings.Join,
		"lower":    strings.ToLower,
		"upper":    strings.ToUpper,
		"truncate": func(n int, s string) string { return truncate(s, n) },
	}
}
