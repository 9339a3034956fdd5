package api

import (
	"fmt"
	"strings"
	"testing"
)

// The keyring keeps digests only: no plaintext key in what it holds.
func TestKeyringHoldsDigestsOnly(t *testing.T) {
	secret := "plaintext-secret-0123456789"
	k, err := NewKeyring([]Key{{Name: "ops", Secret: secret, Role: RoleOperator, Systems: []string{"campus"}}})
	if err != nil {
		t.Fatal(err)
	}
	held := fmt.Sprintf("%#v %+v %v", *k.set.Load(), *k.set.Load(), k.set.Load().digests)
	if strings.Contains(held, secret) || strings.Contains(held, fmt.Sprintf("%x", secret)) {
		t.Fatalf("the keyring holds the plaintext key: %s", held)
	}
	if a, ok := k.Lookup(secret); !ok || a.Name != "ops" || a.Role != RoleOperator {
		t.Fatalf("lookup: %+v %v", a, ok)
	}
}

func TestKeyringReplace(t *testing.T) {
	k, err := NewKeyring([]Key{{Name: "a", Secret: "old-key-0123456789", Role: RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	for name, keys := range map[string][]Key{
		"no name":      {{Secret: "x-0123456789", Role: RoleAdmin}},
		"same name":    {{Name: "a", Secret: "1-0123456789", Role: RoleAdmin}, {Name: "a", Secret: "2-0123456789", Role: RoleAdmin}},
		"same secret":  {{Name: "a", Secret: "1-0123456789", Role: RoleAdmin}, {Name: "b", Secret: "1-0123456789", Role: RoleViewer}},
		"empty secret": {{Name: "a", Role: RoleAdmin}},
		"unknown role": {{Name: "a", Secret: "1-0123456789", Role: "root"}},
	} {
		err := k.Replace(keys)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%s: the error shows a key: %v", name, err)
		}
		if _, ok := k.Lookup("old-key-0123456789"); !ok {
			t.Errorf("%s: the old key no longer works", name)
		}
	}
	if err := k.Replace([]Key{{Name: "b", Secret: "new-key-0123456789", Role: RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup("old-key-0123456789"); ok {
		t.Error("the replaced key still works")
	}
	if a, ok := k.Lookup("new-key-0123456789"); !ok || a.Name != "b" {
		t.Errorf("new key: %+v %v", a, ok)
	}
}
