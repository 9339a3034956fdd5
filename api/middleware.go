package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Keys of values kept in the gin context.
const (
	ctxRequestID = "notifyd.request_id"
	ctxProblem   = "notifyd.problem"
	ctxBody      = "notifyd.body"
	// ctxValidated is the body as the contract validator decoded it.
	ctxValidated = "notifyd.validated"
	// ctxRejectReason is why a ping was refused (a metrics label).
	ctxRejectReason = "notifyd.reject_reason"
)

// requestIDs makes request ids: a random per-process prefix and a counter,
// unique and cheap.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 6)
	rand.Read(b)
	return &requestIDs{prefix: hex.EncodeToString(b)}
}

func (r *requestIDs) next() string {
	return r.prefix + "-" + strconv.FormatUint(r.n.Add(1), 36)
}

// validRequestID accepts a caller's X-Request-Id if it is short and plain.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// observe gives every request an id (the caller's X-Request-Id if sane),
// recovers panics as 500 problems, records latency and logs the request:
// failures at warn/error, successes at debug.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if !validRequestID(id) {
			id = s.ids.next()
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		defer func() {
			if rec := recover(); rec != nil {
				s.log.Error("panic while handling a request; this is a bug in notifyd, please report it",
					"request_id", id, "panic", rec)
				if !c.Writer.Written() {
					writeProblem(c, Problem{Type: ProblemInternal, Title: "Internal error", Status: http.StatusInternalServerError})
				}
			}
			route := c.FullPath()
			if route == "" {
				route = "unmatched"
			}
			status := c.Writer.Status()
			elapsed := time.Since(start)
			method := methodLabel(c.Request.Method)
			s.metrics.httpDuration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(elapsed.Seconds())
			level := slog.LevelDebug
			switch {
			case status >= 500:
				level = slog.LevelError
			case status >= 400:
				level = slog.LevelWarn
			}
			if s.log.Enabled(c, level) {
				s.log.LogAttrs(c, level, "http request",
					slog.String("request_id", id), slog.String("method", method),
					slog.String("route", route), slog.Int("status", status),
					slog.String("problem", c.GetString(ctxProblem)),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.String("remote", c.ClientIP()))
			}
		}()
		c.Next()
	}
}

// methodLabel is the method as metrics and logs name it: one of HTTP's
// standard methods, else "other". Go accepts any token as a method, so a
// label taken as sent would let any client add series without end.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
