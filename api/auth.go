package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"
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

// requireAPIKey admits requests bearing an operator API key.
func (s *Server) requireAPIKey() gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := bearerToken(c)
		if !ok {
			unauthorized(c, "Send an operator API key as \"Authorization: Bearer <key>\".")
			return
		}
		if !s.apiKeys.contains(key) {
			s.log.Warn("subscription API call with a wrong API key; check the client's key against api_keys",
				"request_id", c.GetString(ctxRequestID), "remote", c.ClientIP())
			unauthorized(c, "The API key is not valid.")
			return
		}
		c.Next()
	}
}
