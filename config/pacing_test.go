package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const pacingBase = `channels:
  smtp:
    host: smtp1.example.org
    from: notifyd@example.org
    per_domain:
`

func TestPaceGroupsDefault(t *testing.T) {
	c, err := loadKeys(t, "")
	if err != nil {
		t.Fatal(err)
	}
	pd := c.Channels.SMTP.PerDomain
	if !reflect.DeepEqual(pd.Providers, DefaultPaceGroups()) || pd.BackOff != time.Minute {
		t.Fatalf("unset: providers %+v, back_off %s; want the built-in list and 1m", pd.Providers, pd.BackOff)
	}
	// Every built-in group is valid, and small domains are in none.
	seen := map[string]bool{}
	for _, g := range pd.Providers {
		for _, d := range g.Domains {
			seen[d] = true
		}
	}
	for _, d := range []string{"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "aol.com", "icloud.com", "gmx.de", "web.de"} {
		if !seen[d] {
			t.Errorf("%s is in no built-in provider group", d)
		}
	}
	for _, d := range []string{"example.org", "example.com", "localhost"} {
		if seen[d] {
			t.Errorf("%s, a test domain, is paced by default", d)
		}
	}
	// DefaultPaceGroups returns a new list each time.
	DefaultPaceGroups()[0].Domains[0] = "changed.example"
	if DefaultPaceGroups()[0].Domains[0] != "gmail.com" {
		t.Error("changing one DefaultPaceGroups result changed the next")
	}
}

func TestPaceGroupsSet(t *testing.T) {
	c, err := loadKeys(t, pacingBase+`      back_off: 5s
      providers:
        - {name: bigmail, domains: [big.example, big2.example], rate: 2.5, burst: 4, concurrency: 2}
        - name: unpaced
          domains: [free.example]
`)
	if err != nil {
		t.Fatal(err)
	}
	pd := c.Channels.SMTP.PerDomain
	want := []PaceGroup{
		{Name: "bigmail", Domains: []string{"big.example", "big2.example"}, Rate: 2.5, Burst: 4, Concurrency: 2},
		{Name: "unpaced", Domains: []string{"free.example"}},
	}
	if !reflect.DeepEqual(pd.Providers, want) || pd.BackOff != 5*time.Second {
		t.Fatalf("providers %+v, back_off %s; want %+v and 5s", pd.Providers, pd.BackOff, want)
	}

	// An empty list turns the built-in groups off.
	c, err = loadKeys(t, pacingBase+"      providers: []\n")
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Channels.SMTP.PerDomain.Providers; len(g) != 0 {
		t.Errorf("providers: [] left %+v", g)
	}

	// The environment: the list as JSON, replacing the file's.
	c, err = loadKeys(t, pacingBase+"      providers: [{name: a, domains: [a.example]}]\n",
		`NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS=[{"name":"envmail","domains":["env.example"],"rate":3,"burst":1,"concurrency":1}]`,
		"NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_BACK_OFF=2s")
	if err != nil {
		t.Fatal(err)
	}
	pd = c.Channels.SMTP.PerDomain
	if want := []PaceGroup{{Name: "envmail", Domains: []string{"env.example"}, Rate: 3, Burst: 1, Concurrency: 1}}; !reflect.DeepEqual(pd.Providers, want) || pd.BackOff != 2*time.Second {
		t.Errorf("from the environment: %+v, back_off %s", pd.Providers, pd.BackOff)
	}
	c, err = loadKeys(t, "", "NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS=[]")
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Channels.SMTP.PerDomain.Providers; len(g) != 0 {
		t.Errorf("NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS=[] left %+v", g)
	}
}

func TestPaceGroupsInvalid(t *testing.T) {
	for yaml, want := range map[string]string{
		"providers: [{domains: [a.example]}]":                                           "providers[1].name: is required",
		"providers: [{name: other, domains: [a.example]}]":                              `providers[1].name: "other" names the domains outside`,
		"providers: [{name: Big Mail, domains: [a.example]}]":                           "providers[1].name: must be lower-case letters",
		"providers: [{name: a, domains: [a.example]}, {name: a, domains: [b.example]}]": `providers[2].name: "a" is already the name of providers[1]`,
		"providers: [{name: a}]":                                                        "providers[1].domains: must list at least one",
		"providers: [{name: a, domains: []}]":                                           "providers[1].domains: must list at least one",
		"providers: [{name: a, domains: ['']}]":                                         "providers[1].domains: has an empty domain",
		"providers: [{name: a, domains: [Gmail.com]}]":                                  `"Gmail.com" must be written in lower case (gmail.com)`,
		"providers: [{name: a, domains: ['@gmail.com']}]":                               `"@gmail.com" is not a domain name`,
		"providers: [{name: a, domains: [x.example]}, {name: b, domains: [x.example]}]": `providers[2].domains: x.example is already in provider "a"`,
		"providers: [{name: a, domains: [a.example], rate: -1}]":                        "providers[1].rate: must be a finite number >= 0",
		"providers: [{name: a, domains: [a.example], rate: 1}]":                         "providers[1].burst: must be >= 1 when the provider's rate is set",
		"providers: [{name: a, domains: [a.example], concurrency: -2}]":                 "providers[1].concurrency: must be >= 0",
		"providers: [{name: a, domains: [a.example], burst: 1.5}]":                      "burst must be a whole number",
		"providers: [{name: a, domains: [a.example], rate: fast}]":                      "rate must be a number",
		"providers: [{name: a, domains: a.example}]":                                    "domains must be a list of domain names",
		"providers: [{name: a, domains: [a.example], pace: 1}]":                         `unknown key "pace"`,
		"providers: {name: a}":                                                          "must be a list of providers",
		"back_off: 0s":                                                                  "per_domain.back_off: must be between 1s and 1h",
		"back_off: 2h":                                                                  "per_domain.back_off: must be between 1s and 1h",
		"rate: -1":                                                                      "per_domain.rate: must be a finite number >= 0",
		"concurrency: -1":                                                               "per_domain.concurrency: must be >= 0",
		"rate: 1\n      burst: 0":                                                       "per_domain.burst: must be >= 1",
	} {
		_, err := loadKeys(t, pacingBase+"      "+yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
	}
	if _, err := loadKeys(t, "", `NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS={"name":"a"}`); err == nil ||
		!strings.Contains(err.Error(), "NOTIFYD_CHANNELS_SMTP_PER_DOMAIN_PROVIDERS: must be a list of providers") {
		t.Errorf("a JSON object in the environment: %v", err)
	}
}
