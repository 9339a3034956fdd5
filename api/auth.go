package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/store"
)

// secretSet holds secrets as SHA-256 digests and checks a candidate
// against all of them in constant time: neither the position of the first
// differing byte nor the length of a secret shows in the timing.
type secretSet struct{ digests [][sha256.Size]byte }

func newSecretSet(secrets []string) secretSet {
	var s secretSet
	for _, v := range secrets {
		if v != "" {
			s.digests = append(s.digests, sha256.Sum256([]byte(v)))
		}
	}
	return s
}

// contains reports whether candidate is one of the secrets. It compares
// against every secret, so the time does not tell which one matched.
func (s secretSet) contains(candidate string) bool {
	d := sha256.Sum256([]byte(candidate))
	match := 0
	for i := range s.digests {
		match |= subtle.ConstantTimeCompare(d[:], s.digests[i][:])
	}
	return match == 1
}

// decoyDigest is compared against when a ping names an unknown system, so
// that unknown systems and wrong tokens take the same time.
var decoyDigest = newSecretSet([]string{"notifyd decoy secret: never a valid token"})

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(c *gin.Context) (string, bool) {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// authorize admits requests bearing an API key whose role grants p: 401
// without a valid key, 403 when the role does not grant p. The actor is
// then in the request's context (ActorFrom), for the handler's scope
// checks, and as the audit actor of the request's writes.
func (s *Server) authorize(p Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := bearerToken(c)
		if !ok {
			unauthorized(c, "Send an API key as \"Authorization: Bearer <key>\".")
			return
		}
		a, ok := s.keys.Lookup(key)
		if !ok {
			s.log.Warn("API call with a wrong API key; check the client's key against the configured keys",
				"request_id", c.GetString(ctxRequestID), "remote", c.ClientIP())
			unauthorized(c, "The API key is not valid.")
			return
		}
		if !a.Allows(p) {
			s.log.Info("API call refused: the key's role or scope does not allow it",
				"request_id", c.GetString(ctxRequestID), "key", a.Name, "role", a.Role, "needs", p.String())
			if (Actor{Role: a.Role}).Allows(p) {
				forbidden(c, "The API key is scoped to systems, and "+string(p.Resource)+" are of no system: only a key "+
					"of every system may "+string(p.Access)+" them.")
				return
			}
			forbidden(c, "The API key's role ("+string(a.Role)+") does not allow this ("+p.String()+").")
			return
		}
		ctx := WithActor(c.Request.Context(), a)
		ctx = store.WithAudit(ctx, store.Audit{Actor: store.AuditActor{Kind: store.ActorKindAPIKey, Name: a.Name}})
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
