package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// ctxPingSystem is the system a ping authenticated as.
const ctxPingSystem = "notifyd.ping_system"

// pingCredentials are the members of a ping that authenticate it; the
// rest of the body is left undecoded until the ping is authenticated.
type pingCredentials struct {
	System json.RawMessage `json:"system"`
	Token  json.RawMessage `json:"token"`
}

// authenticatePing checks a ping's system and token before the contract
// validator looks at the rest of its body, so that a caller without a
// token costs no more than decoding two members: the work of validating
// a large body, and its error list, are for authenticated callers only.
// The system and token members are checked against their schemas here,
// so a wrong type or length still gets its field error.
func (ct *contract) authenticatePing(s *Server) gin.HandlerFunc {
	return ct.authenticateSystem(s, "Ping", "ping")
}

// authenticateSystem is authenticatePing for any request a calendar
// system authenticates with its ping token in the body (or as a bearer
// token): schema names the body's schema in openapi.yaml, noun what the
// request is called in answers and logs ("ping", "event").
func (ct *contract) authenticateSystem(s *Server, schema, noun string) gin.HandlerFunc {
	props := ct.doc.Components.Schemas[schema].Value.Properties
	systemSchema, tokenSchema := props["system"].Value, props["token"].Value
	return func(c *gin.Context) {
		body, _ := c.Value(ctxBody).([]byte)
		if len(bytes.TrimSpace(body)) == 0 {
			s.rejectPing(c, rejectInvalid)
			badRequest(c, "Send the "+noun+" as a JSON object.", notifyd.FieldError{Field: "", Detail: "a JSON body is required"})
			return
		}
		var cred pingCredentials
		if err := json.Unmarshal(body, &cred); err != nil || bytes.TrimSpace(body)[0] != '{' {
			var syntaxErr *json.SyntaxError
			if !errors.As(err, &syntaxErr) {
				s.rejectPing(c, rejectInvalid)
				badRequest(c, "Send the "+noun+" as a JSON object.", notifyd.FieldError{Field: "", Detail: "must be a JSON object"})
				return
			}
			s.rejectPing(c, rejectMalformed)
			writeProblem(c, Problem{Type: ProblemMalformedJSON, Title: "Malformed JSON", Status: http.StatusBadRequest,
				Detail: "The body is not valid JSON: " + err.Error()})
			return
		}
		system, ok := credential(c, s, "system", cred.System, systemSchema)
		if !ok {
			return
		}
		if cred.System == nil {
			s.rejectPing(c, rejectInvalid)
			badRequest(c, "Name the calendar system that sends the "+noun+".", notifyd.FieldError{Field: "/system", Detail: "is required"})
			return
		}
		token, ok := credential(c, s, "token", cred.Token, tokenSchema)
		if !ok {
			return
		}
		if bearer, ok := bearerToken(c); ok {
			if token != "" && token != bearer {
				s.rejectPing(c, rejectBadToken)
				unauthorized(c, "The token in the body and the bearer token differ; send one of them.")
				return
			}
			token = bearer
		}
		if token == "" {
			s.rejectPing(c, rejectMissingToken)
			unauthorized(c, "Send the system's ping token as \"token\" in the body or as \"Authorization: Bearer <token>\".")
			return
		}
		sys, known := s.systems[system]
		tokens := decoyDigest
		if known {
			tokens = sys.tokens
		}
		if !tokens.contains(token) || !known {
			reason := rejectBadToken
			if !known {
				reason = rejectUnknownSystem
			}
			s.rejectPing(c, reason)
			s.log.Warn(noun+" refused: unknown system or wrong token; check the calendar server's notifyd settings against systems in notifyd's config",
				"request_id", c.GetString(ctxRequestID), "system", truncate(system, maxProblemField), "reason", reason, "remote", c.ClientIP())
			unauthorized(c, "Unknown system or wrong token.")
			return
		}
		c.Set(ctxPingSystem, system)
	}
}

// credential decodes the string member name of a ping and checks it
// against its schema; on failure it has answered 400. An absent member
// is "".
func credential(c *gin.Context, s *Server, name string, raw json.RawMessage, schema *openapi3.Schema) (string, bool) {
	if raw == nil {
		return "", true
	}
	var v string
	err := json.Unmarshal(raw, &v)
	if err == nil {
		err = schema.VisitJSON(v)
	}
	if err != nil {
		detail := "must be a string"
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			detail = se.Reason
		}
		s.rejectPing(c, rejectInvalid)
		badRequest(c, "Some fields are not valid; see errors.", notifyd.FieldError{Field: "/" + name, Detail: detail})
		return "", false
	}
	return v, true
}
