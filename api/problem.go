package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// Problem types: the `type` member of every error body. They are stable;
// clients may switch on them.
const (
	ProblemMalformedJSON        = "urn:notifyd:problem:malformed-json"
	ProblemValidation           = "urn:notifyd:problem:validation-failed"
	ProblemBodyTooLarge         = "urn:notifyd:problem:body-too-large"
	ProblemUnsupportedMediaType = "urn:notifyd:problem:unsupported-media-type"
	ProblemUnauthorized         = "urn:notifyd:problem:unauthorized"
	ProblemNotFound             = "urn:notifyd:problem:not-found"
	ProblemMethodNotAllowed     = "urn:notifyd:problem:method-not-allowed"
	ProblemPreconditionFailed   = "urn:notifyd:problem:precondition-failed"
	ProblemConflict             = "urn:notifyd:problem:conflict"
	ProblemUnavailable          = "urn:notifyd:problem:unavailable"
	ProblemInternal             = "urn:notifyd:problem:internal"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	Instance  string               `json:"instance,omitempty"`
	RequestID string               `json:"request_id,omitempty"`
	Errors    []notifyd.FieldError `json:"errors,omitempty"`
	// ErrorsOmitted counts the field errors left out of Errors, which
	// names at most maxProblemErrors.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
}

// Bounds of a problem body, whatever the request: at most 20 field errors
// of at most 256 bytes each part, a detail of at most 1 KiB. A problem is
// thus always under 16 KiB, and a request with a million bad values gets
// no bigger an answer than one with 21.
const (
	maxProblemErrors = 20
	maxProblemField  = 256
	maxProblemDetail = 1024
)

// bounded returns p within the bounds above.
func (p Problem) bounded() Problem {
	p.Detail = truncate(p.Detail, maxProblemDetail)
	p.Instance = truncate(p.Instance, maxProblemField)
	if n := len(p.Errors); n > maxProblemErrors {
		p.ErrorsOmitted += n - maxProblemErrors
		p.Errors = p.Errors[:maxProblemErrors]
	}
	errs := make([]notifyd.FieldError, len(p.Errors))
	for i, e := range p.Errors {
		errs[i] = notifyd.FieldError{Field: truncate(e.Field, maxProblemField), Detail: truncate(e.Detail, maxProblemField)}
	}
	p.Errors = errs
	return p
}

// truncate shortens s to at most max bytes, cutting at a rune boundary and
// ending with "…" when it cuts.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = 2

// writeProblem sends p as application/problem+json and stops the chain.
func writeProblem(c *gin.Context, p Problem) {
	p.RequestID = c.GetString(ctxRequestID)
	if p.Instance == "" {
		p.Instance = c.Request.URL.Path
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="notifyd"`)
	}
	body, _ := json.Marshal(p.bounded())
	c.Set(ctxProblem, p.Type)
	c.Data(p.Status, "application/problem+json", body)
	c.Abort()
}

func badRequest(c *gin.Context, detail string, errs ...notifyd.FieldError) {
	writeProblem(c, Problem{Type: ProblemValidation, Title: "The request is not valid", Status: http.StatusBadRequest,
		Detail: detail, Errors: errs})
}

func unauthorized(c *gin.Context, detail string) {
	writeProblem(c, Problem{Type: ProblemUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: detail})
}

// writeError maps a service error to its problem.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	var verr notifyd.ValidationError
	switch {
	case errors.As(err, &verr):
		badRequest(c, "Some fields are not valid; see errors.", verr...)
	case errors.Is(err, notifyd.ErrNotFound):
		writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "No such resource."})
	case errors.Is(err, notifyd.ErrConflict):
		writeProblem(c, Problem{Type: ProblemPreconditionFailed, Title: "Precondition failed", Status: http.StatusPreconditionFailed,
			Detail: "The resource changed since the ETag given in If-Match was read; GET it again, reapply your change and retry."})
	case errors.Is(err, notifyd.ErrUnavailable):
		log.Error("database cannot take the request; check disk space, permissions and the database's health",
			"request_id", c.GetString(ctxRequestID), "err", err)
		writeProblem(c, Problem{Type: ProblemUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "The database cannot take this request now; nothing was recorded. Retry after the Retry-After delay."})
	default:
		log.Error("request failed; this is a bug in notifyd, please report it with the request id",
			"request_id", c.GetString(ctxRequestID), "err", err)
		writeProblem(c, Problem{Type: ProblemInternal, Title: "Internal error", Status: http.StatusInternalServerError,
			Detail: "notifyd failed to handle the request; the request id identifies it in the logs."})
	}
}
