package calendar

import (
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// timeOf reads the named DATE or DATE-TIME property of c; zero when absent
// or unreadable (with a warning).
func (p *parser) timeOf(c *ical.Component, name string) Time {
	prop := c.Props.Get(name)
	if prop == nil {
		return Time{}
	}
	t, _ := p.value(prop, prop.Value)
	return t
}

// value reads one DATE or DATE-TIME value v of prop (one item of a list),
// in the zone prop's TZID names, UTC for "Z", else the default location.
func (p *parser) value(prop *ical.Prop, v string) (Time, bool) {
	c, err := parseCivil(v)
	if err != nil {
		p.warn.add(WarnBadProperty, "%s: %v", prop.Name, err)
		return Time{}, false
	}
	switch vt := strings.ToUpper(prop.Params.Get(ical.ParamValue)); {
	case vt == "DATE" && !c.date:
		p.warn.add(WarnBadProperty, "%s;VALUE=DATE holds a date-time %q", prop.Name, v)
		return Time{}, false
	}
	return p.resolve(c, prop.Params.Get(ical.ParamTimezoneID)), true
}

// resolve gives a civil value its instant.
func (p *parser) resolve(c civil, tzid string) Time {
	switch {
	case c.date:
		return Time{Time: inZone(c.wall(), p.zones.fallback()), Date: true}
	case c.utc:
		return Time{Time: c.wall()}
	case tzid != "":
		return Time{Time: inZone(c.wall(), p.zones.lookup(tzid))}
	default:
		return Time{Time: inZone(c.wall(), p.zones.fallback()), Floating: true}
	}
}

// utcOf reads a date-time meant to be UTC (ACKNOWLEDGED, X-MOZ-LASTACK);
// one written with a TZID or floating is read as any other.
func (p *parser) utcOf(prop *ical.Prop) (time.Time, bool) {
	t, ok := p.value(prop, prop.Value)
	return t.UTC(), ok && !t.IsZero()
}

// text is a TEXT value unescaped ("\n", "\,", "\;", "\\"); an unknown
// escape keeps its character rather than failing as go-ical's Prop.Text
// does. Empty when prop is nil.
func text(prop *ical.Prop) string {
	if prop == nil {
		return ""
	}
	v := prop.Value
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
