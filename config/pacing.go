package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// PaceGroup is one entry of channels.smtp.per_domain.providers: the
// recipient domains of one mailbox provider, paced together (one token
// bucket and one cap on sends in progress for all of them, since they
// reach the same servers).
type PaceGroup struct {
	// Name labels the group in metrics and logs (required, unique, not
	// "other", which names every domain outside the groups).
	Name string `json:"name"`
	// Domains are the recipient domains (after @, lower-case) of the
	// group, each in one group at most.
	Domains []string `json:"domains"`
	// Rate is the group's messages per second; 0 means unlimited.
	Rate float64 `json:"rate"`
	// Burst is how many messages may go at once before Rate applies (at
	// least 1 with a rate).
	Burst int `json:"burst"`
	// Concurrency caps the group's sends in progress at once; 0 means no
	// cap.
	Concurrency int `json:"concurrency"`
}

// OtherPaceGroup names, in metrics and logs, the recipient domains that
// are in no channels.smtp.per_domain.providers group.
const OtherPaceGroup = "other"

// DefaultPaceGroups returns the built-in channels.smtp.per_domain.providers:
// the large mailbox providers, each paced so that a burst of notifyd's
// mail to it stays polite (docs/deliverability.md gives the reasons for
// the figures). A new slice each call.
func DefaultPaceGroups() []PaceGroup {
	return []PaceGroup{
		{Name: "gmail", Domains: []string{"gmail.com", "googlemail.com"}, Rate: 10, Burst: 20, Concurrency: 5},
		{Name: "microsoft", Domains: []string{
			"outlook.com", "hotmail.com", "live.com", "msn.com", "windowslive.com",
			"hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es",
			"live.co.uk", "live.fr", "live.de", "live.it", "live.nl", "live.ca",
			"outlook.fr", "outlook.de", "outlook.es", "outlook.it",
		}, Rate: 5, Burst: 10, Concurrency: 3},
		{Name: "yahoo", Domains: []string{
			"yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "aim.com",
			"yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.it", "yahoo.es", "yahoo.ca",
		}, Rate: 5, Burst: 10, Concurrency: 3},
		{Name: "apple", Domains: []string{"icloud.com", "me.com", "mac.com"}, Rate: 5, Burst: 10, Concurrency: 3},
		{Name: "gmx", Domains: []string{"gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com", "web.de"}, Rate: 5, Burst: 10, Concurrency: 3},
	}
}

// paceGroupsType is the type of channels.smtp.per_domain.providers.
var paceGroupsType = reflect.TypeFor[[]PaceGroup]()

// paceGroupName is what a group's name may be: it is a metric label.
var paceGroupName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// paceGroupList is channels.smtp.per_domain.providers as a list of maps.
var paceGroupList = mapList[PaceGroup]{
	noun: "provider", fields: "name, domains, rate, burst and concurrency",
	example:     `[{name: gmail, domains: [gmail.com, googlemail.com], rate: 10, burst: 20, concurrency: 5}]`,
	jsonExample: `[{"name":"gmail","domains":["gmail.com","googlemail.com"],"rate":10,"burst":20,"concurrency":5}]`,
	set: func(g *PaceGroup, f string, val any) (err error) {
		switch f {
		case "name":
			g.Name, err = stringField(f, val)
		case "domains":
			items, ok := val.([]any)
			if !ok {
				return errors.New("domains must be a list of domain names, e.g. [gmail.com, googlemail.com]")
			}
			g.Domains = nil
			for _, it := range items {
				s, ok := it.(string)
				if !ok {
					return errors.New("domains must be a list of domain names; put each in quotes if need be")
				}
				g.Domains = append(g.Domains, s)
			}
		case "rate":
			g.Rate, err = numberField(f, val)
		case "burst":
			g.Burst, err = wholeField(f, val)
		case "concurrency":
			g.Concurrency, err = wholeField(f, val)
		default:
			return errUnknownField
		}
		return err
	},
}

// numberField is val as the number field f must be.
func numberField(f string, val any) (float64, error) {
	switch n := val.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case uint64:
		return float64(n), nil
	case float64:
		return n, nil
	}
	return 0, fmt.Errorf("%s must be a number", f)
}

// wholeField is val as the whole-number field f must be.
func wholeField(f string, val any) (int, error) {
	n, err := numberField(f, val)
	if err != nil || n != math.Trunc(n) || math.Abs(n) > 1<<31 {
		return 0, fmt.Errorf("%s must be a whole number", f)
	}
	return int(n), nil
}

// validatePacing checks channels.smtp.per_domain.
func validatePacing(p *problems, pd *PerDomain) {
	const at = "channels.smtp.per_domain"
	if pd.Rate < 0 || math.IsNaN(pd.Rate) || math.IsInf(pd.Rate, 0) {
		p.add(at+".rate", "must be a finite number >= 0 (messages per second to one domain; 0 = unlimited)")
	}
	if pd.Rate > 0 && pd.Burst < 1 {
		p.add(at+".burst", "must be >= 1 when channels.smtp.per_domain.rate is set")
	}
	if pd.Concurrency < 0 {
		p.add(at+".concurrency", "must be >= 0 (0 = no cap)")
	}
	if pd.BackOff < time.Second || pd.BackOff > time.Hour {
		p.add(at+".back_off", "must be between 1s and 1h (how long a domain is slowed after its first rate refusal; default 1m)")
	}
	names := map[string]int{}
	domains := map[string]string{}
	for i := range pd.Providers {
		g := &pd.Providers[i]
		key := fmt.Sprintf("%s.providers[%d]", at, i+1)
		switch {
		case g.Name == "":
			p.add(key+".name", "is required: it labels the provider in metrics and logs, e.g. gmail")
		case g.Name == OtherPaceGroup:
			p.add(key+".name", "%q names the domains outside every provider; choose another name", OtherPaceGroup)
		case !paceGroupName.MatchString(g.Name):
			p.add(key+".name", "must be lower-case letters, digits, '.', '_' or '-' (up to 64), e.g. gmail: it is a metric label")
		case names[g.Name] > 0:
			p.add(key+".name", "%q is already the name of providers[%d]; give each provider its own name", g.Name, names[g.Name])
		default:
			names[g.Name] = i + 1
		}
		if len(g.Domains) == 0 {
			p.add(key+".domains", "must list at least one recipient domain, e.g. [gmail.com]")
		}
		for _, d := range g.Domains {
			switch {
			case d == "":
				p.add(key+".domains", "has an empty domain; remove it")
			case strings.Contains(d, "@") || !dnsName.MatchString(d):
				p.add(key+".domains", "%q is not a domain name; write the part after @, e.g. gmail.com", d)
			case d != strings.ToLower(d):
				p.add(key+".domains", "%q must be written in lower case (%s); domains are matched lower-cased", d, strings.ToLower(d))
			case domains[d] != "":
				p.add(key+".domains", "%s is already in provider %q; list each domain in one provider only", d, domains[d])
			default:
				domains[d] = cmp.Or(g.Name, fmt.Sprintf("providers[%d]", i+1))
			}
		}
		if g.Rate < 0 || math.IsNaN(g.Rate) || math.IsInf(g.Rate, 0) {
			p.add(key+".rate", "must be a finite number >= 0 (messages per second to the provider; 0 = unlimited)")
		}
		if g.Rate > 0 && g.Burst < 1 {
			p.add(key+".burst", "must be >= 1 when the provider's rate is set")
		}
		if g.Burst < 0 {
			p.add(key+".burst", "must be >= 0")
		}
		if g.Concurrency < 0 {
			p.add(key+".concurrency", "must be >= 0 (0 = no cap)")
		}
	}
}
