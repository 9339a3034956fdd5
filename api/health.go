package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, health{Status: "ok"}) }

// readyz runs every readiness check; any failure is a 503 naming it.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := make(map[string]string, len(s.ready))
	var failed []notifyd.FieldError
	for _, chk := range s.ready {
		if err := chk.Check(ctx); err != nil {
			checks[chk.Name] = err.Error()
			failed = append(failed, notifyd.FieldError{Field: chk.Name, Detail: err.Error()})
			continue
		}
		checks[chk.Name] = "ok"
	}
	if len(failed) > 0 {
		s.log.Warn("not ready", "failed", failed)
		writeProblem(c, Problem{Type: ProblemUnavailable, Title: "Not ready", Status: http.StatusServiceUnavailable,
			Detail: "A readiness check failed; see errors.", Errors: failed})
		return
	}
	c.JSON(http.StatusOK, health{Status: "ready", Checks: checks})
}

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", notifyd.OpenAPISpec)
}
