package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
)

// Key is an API key as configured: its secret, and the actor it makes.
type Key struct {
	// Name identifies the key in the audit trail and the logs.
	Name string
	// Secret is the bearer token. A Keyring keeps only its SHA-256
	// digest.
	Secret string
	Role   Role
	// Systems scope the key (none: every system).
	Systems []string
}

// LegacyKeys are the keys of api_keys (NOTIFYD_API_KEYS, api_keys_file):
// admin keys of every system, named key-1, key-2... in their order.
func LegacyKeys(secrets []string) []Key {
	var out []Key
	for _, s := range secrets {
		if s != "" {
			out = append(out, Key{Name: "key-" + strconv.Itoa(len(out)+1), Secret: s, Role: RoleAdmin})
		}
	}
	return out
}

// Keyring holds the API keys as SHA-256 digests, with the actor of each,
// and finds the actor of a bearer token in constant time. Replace swaps
// the whole set at once (key rotation), safe while requests are served.
type Keyring struct {
	set atomic.Pointer[keySet]
}

// keySet is one immutable set of keys: no secret, only digests.
type keySet struct {
	digests [][sha256.Size]byte
	actors  []Actor
}

// NewKeyring returns a keyring holding keys (see Replace).
func NewKeyring(keys []Key) (*Keyring, error) {
	k := &Keyring{}
	if err := k.Replace(keys); err != nil {
		return nil, err
	}
	return k, nil
}

// Replace makes keys the accepted keys, or, if they are not valid (an
// empty name or secret, two keys with the same name or secret, an unknown
// role), keeps the current ones and says what to fix (without any
// secret).
func (k *Keyring) Replace(keys []Key) error {
	set := &keySet{}
	names := map[string]bool{}
	var errs []error
	for i, key := range keys {
		switch {
		case key.Name == "":
			errs = append(errs, fmt.Errorf("key %d has no name", i+1))
			continue
		case names[key.Name]:
			errs = append(errs, fmt.Errorf("key %q is named twice; give each key its own name", key.Name))
			continue
		case key.Secret == "":
			errs = append(errs, fmt.Errorf("key %q has an empty secret", key.Name))
			continue
		case !key.Role.Valid():
			errs = append(errs, fmt.Errorf("key %q: role %q is not admin, operator or viewer", key.Name, key.Role))
			continue
		}
		names[key.Name] = true
		d := sha256.Sum256([]byte(key.Secret))
		if j := slices.Index(set.digests, d); j >= 0 {
			errs = append(errs, fmt.Errorf("keys %q and %q have the same secret; give each its own", set.actors[j].Name, key.Name))
			continue
		}
		set.digests = append(set.digests, d)
		set.actors = append(set.actors, Actor{Name: key.Name, Role: key.Role, Systems: slices.Clone(key.Systems)})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	k.set.Store(set)
	return nil
}

// Names returns the names of the keys, in order.
func (k *Keyring) Names() []string {
	set := k.set.Load()
	out := make([]string, len(set.actors))
	for i, a := range set.actors {
		out[i] = a.Name
	}
	return out
}

// Lookup returns the actor of token. It compares the token's digest with
// every key's, so the time does not tell which key matched, how many
// bytes did, or how long any secret is.
func (k *Keyring) Lookup(token string) (Actor, bool) {
	set := k.set.Load()
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range set.digests {
		eq := subtle.ConstantTimeCompare(d[:], set.digests[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Actor{}, false
	}
	return set.actors[found], true
}
