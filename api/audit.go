package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// AuditLog lists the audit trail and records the actions that change
// nothing else stored; store.DB implements it.
type AuditLog interface {
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	RecordAudit(ctx context.Context, e store.AuditEntry) error
}

// auditJSON is an audit entry as the API shows it.
type auditJSON struct {
	ID           string          `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	ActorKind    string          `json:"actor_kind"`
	Action       string          `json:"action"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	System       string          `json:"system"`
	Principal    string          `json:"principal"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
}

// listAudit answers GET /v1/audit: the changes of the actor's systems,
// oldest first, filtered by system, principal, actor, action, resource
// and time range.
func (s *Server) listAudit(c *gin.Context) {
	if s.audit == nil {
		writeError(c, s.log, notifyd.ErrUnavailable)
		return
	}
	f := store.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), ResourceID: c.Query("resource_id")}
	var inScope bool
	f.System, f.Systems, inScope = actorOf(c).SystemFilter(c.Query("system"))
	if !timeRange(c, &f.From, &f.To) {
		return
	}
	listPageOf(s, c, uuidID, func(q pageQuery) ([]store.AuditEntry, error) {
		if !inScope {
			return nil, nil
		}
		f.Principal, f.Limit, f.AfterTime, f.AfterID = q.Principal, q.Limit, q.AfterTime, q.AfterID
		return s.audit.AuditEntries(c.Request.Context(), f)
	}, func(e store.AuditEntry) (time.Time, string) { return e.At, e.ID }, func(e store.AuditEntry) auditJSON {
		null := json.RawMessage("null")
		out := auditJSON{ID: e.ID, At: e.At, Actor: e.Actor.Name, ActorKind: e.Actor.Kind, Action: e.Action,
			ResourceType: e.ResourceType, ResourceID: e.ResourceID, System: e.System, Principal: e.Principal,
			Before: e.Before, After: e.After}
		if out.Before == nil {
			out.Before = null
		}
		if out.After == nil {
			out.After = null
		}
		return out
	})
}

// uuidID reports whether id is a canonical UUID (audit entry IDs).
func uuidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
