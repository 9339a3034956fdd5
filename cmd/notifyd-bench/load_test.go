package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// body is request n's body.
func body(l *Load, n string) []byte {
	var b []byte
	for i, p := range l.bodyParts() {
		if i > 0 {
			b = append(b, n...)
		}
		b = append(b, p...)
	}
	return b
}

// Each mode's body is the JSON its endpoint takes, for a principal (and
// an event) of its own.
func TestBodies(t *testing.T) {
	l := &Load{System: "bench", Token: `tok"en`, Prefix: "/principals/users/bench-r1-", Mode: ModePing}
	var ping struct {
		System, Token string
		Hrefs         []string
	}
	if err := json.Unmarshal(body(l, "42"), &ping); err != nil || ping.Token != `tok"en` || len(ping.Hrefs) != 1 || ping.Hrefs[0] != "/principals/users/bench-r1-42" {
		t.Errorf("ping %+v, %v", ping, err)
	}
	l.Mode = ModePublish
	var pub map[string]string
	if err := json.Unmarshal(body(l, "42"), &pub); err != nil {
		t.Fatalf("publish: %v: %s", err, body(l, "42"))
	}
	if pub["topic"] != "event-create" || pub["principal"] != "/principals/users/bench-r1-42" || pub["content_type"] != "text/calendar" ||
		!strings.Contains(pub["payload"], "\r\nUID:bench-r1-42@bench.example.org\r\n") || !strings.HasSuffix(pub["payload"], "END:VCALENDAR\r\n") {
		t.Errorf("publish %q", pub)
	}
	l.Bearer = true
	if b := body(l, "1"); strings.Contains(string(b), "token") {
		t.Errorf("a bearer token in the body: %s", b)
	}
}
