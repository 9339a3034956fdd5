package config

import (
	"strings"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/preferences"
)

// defaultAlwaysImmediate is System.AlwaysImmediate's default:
// preferences.DefaultPolicy() written as the configuration writes it.
func defaultAlwaysImmediate() []string {
	var out []string
	for _, r := range preferences.DefaultPolicy().AlwaysImmediate {
		s := string(r.Type)
		if r.Within > 0 {
			s += ":" + strings.TrimSuffix(r.Within.String(), "0m0s")
		}
		out = append(out, s)
	}
	return out
}

// Policy is the system's always-immediate policy for every subscription's
// preferences: its AlwaysImmediate types and UrgentWithin. Call it on a
// validated configuration (an entry it cannot read is left out).
func (s *System) Policy() preferences.Policy {
	p := preferences.Policy{UrgentWithin: s.UrgentWithin}
	for _, e := range s.AlwaysImmediate {
		if r, ok := parseRule(e); ok {
			p.AlwaysImmediate = append(p.AlwaysImmediate, r)
		}
	}
	return p
}

// parseRule reads an always_immediate entry: a notification type, or a
// type, ":" and a positive duration ("event-deleted:24h"), only about
// events starting within it.
func parseRule(e string) (preferences.Rule, bool) {
	typ, within, timed := strings.Cut(strings.TrimSpace(e), ":")
	r := preferences.Rule{Type: notifyd.NotificationType(typ)}
	if !r.Type.Valid() {
		return r, false
	}
	if timed {
		d, err := time.ParseDuration(within)
		if err != nil || d <= 0 {
			return r, false
		}
		r.Within = d
	}
	return r, true
}

// checkPolicy validates the system's always_immediate and urgent_within.
func checkPolicy(p *problems, key string, s *System) {
	seen := map[string]bool{}
	for _, e := range s.AlwaysImmediate {
		r, ok := parseRule(e)
		switch {
		case !ok:
			p.add(key+".always_immediate", "entry %q is not a notification type, optionally with :duration (e.g. reminder, event-deleted:24h)", e)
		case seen[string(r.Type)]:
			p.add(key+".always_immediate", "names %s twice", r.Type)
		}
		seen[string(r.Type)] = true
	}
	if s.UrgentWithin < 0 || s.UrgentWithin > 7*24*time.Hour {
		p.add(key+".urgent_within", "must be between 0 (off) and 168h")
	}
}
