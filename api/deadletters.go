package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// DeadLetters puts failed deliveries back in the queue; engine.Engine
// implements it.
type DeadLetters interface {
	// RetryDelivery requeues a failed delivery and queues its job in one
	// transaction, and returns the delivery as that transaction left it
	// (queued), whatever the job has done since; notifyd.ErrNotFound if
	// there is none, notifyd.ErrConflict if it is not failed.
	RetryDelivery(ctx context.Context, id string) (*store.DeliveryRecord, error)
	// RetryNotification queues a dead notification to be fetched and
	// read again, audited in the same transaction, and returns it as it
	// was; notifyd.ErrNotFound if there is none, notifyd.ErrConflict if
	// it is not dead.
	RetryNotification(ctx context.Context, id string) (*store.NotificationRecord, error)
}

// DeadLetterLog lists and discards failed deliveries, and lists the
// notifications set aside as dead; store.DB implements it.
type DeadLetterLog interface {
	DeadLetters(ctx context.Context, f store.DeliveryFilter) ([]store.DeliveryListItem, error)
	DeadNotifications(ctx context.Context, f store.NotificationFilter) ([]store.NotificationRecord, error)
	DiscardDelivery(ctx context.Context, id string, now time.Time) error
	DiscardDeadNotification(ctx context.Context, id string, now time.Time) error
	Delivery(ctx context.Context, id string) (*store.DeliveryRecord, error)
	Notification(ctx context.Context, id string) (*store.NotificationRecord, error)
}

func (s *Server) listDeadLetters(c *gin.Context) {
	f := store.DeliveryFilter{System: c.Query("system"), Channel: c.Query("channel"), Limit: 100}
	s.deliveryPage(c, f, s.deadLog.DeadLetters)
}

func (s *Server) retryDeadLetter(c *gin.Context) {
	ctx := c.Request.Context()
	if s.deadLetters == nil {
		writeError(c, s.log, notifyd.ErrUnavailable) // this process does not run the engine
		return
	}
	if err := s.deliveryInScope(c, c.Param("id")); err != nil {
		writeError(c, s.log, err)
		return
	}
	d, err := s.deadLetters.RetryDelivery(ctx, c.Param("id"))
	if err != nil {
		s.deadLetterError(c, err)
		return
	}
	it := store.DeliveryListItem{DeliveryRecord: *d}
	n, err := s.deadLog.Notification(ctx, d.NotificationID)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	it.NotificationType, it.NotificationHref = n.Type, n.Href
	c.JSON(http.StatusAccepted, toDeliveryJSON(it))
}

func (s *Server) discardDeadLetter(c *gin.Context) {
	if err := s.deliveryInScope(c, c.Param("id")); err != nil {
		writeError(c, s.log, err)
		return
	}
	if err := s.deadLog.DiscardDelivery(c.Request.Context(), c.Param("id"), time.Now()); err != nil {
		s.deadLetterError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deadLetterError maps the errors of retry and discard: ErrConflict means
// the delivery is not a dead letter (not failed).
func (s *Server) deadLetterError(c *gin.Context, err error) {
	if errors.Is(err, notifyd.ErrConflict) {
		writeProblem(c, Problem{Type: ProblemConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: "The delivery is not a dead letter (its status is not failed); GET /v1/deliveries shows its status."})
		return
	}
	writeError(c, s.log, err)
}

// deadNotificationJSON is a notification set aside as dead, as the API
// shows it.
type deadNotificationJSON struct {
	ID        string    `json:"id"`
	System    string    `json:"system"`
	Principal string    `json:"principal"`
	Href      string    `json:"href"`
	ETag      string    `json:"etag"`
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) listDeadNotifications(c *gin.Context) {
	system, systems, inScope := actorOf(c).SystemFilter(c.Query("system"))
	listPage(s, c, func(q pageQuery) ([]store.NotificationRecord, error) {
		if !inScope {
			return nil, nil
		}
		return s.deadLog.DeadNotifications(c.Request.Context(), store.NotificationFilter{System: system, Systems: systems,
			Principal: q.Principal, Limit: q.Limit, AfterTime: q.AfterTime, AfterID: q.AfterID})
	}, func(n store.NotificationRecord) (time.Time, string) { return n.CreatedAt, n.ID },
		toDeadNotificationJSON)
}

func toDeadNotificationJSON(n store.NotificationRecord) deadNotificationJSON {
	return deadNotificationJSON{ID: n.ID, System: n.System, Principal: n.Principal, Href: n.Href,
		ETag: n.ETag, Type: n.Type, Reason: n.Error, CreatedAt: n.CreatedAt}
}

// notificationInScope answers notifyd.ErrNotFound for a notification of a
// system outside the key's scope, as for one that does not exist.
func (s *Server) notificationInScope(c *gin.Context, id string) error {
	a := actorOf(c)
	if !a.Scoped() {
		return nil
	}
	n, err := s.deadLog.Notification(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if !a.Sees(n.System) {
		return notifyd.ErrNotFound
	}
	return nil
}

func (s *Server) retryDeadNotification(c *gin.Context) {
	if s.deadLetters == nil {
		writeError(c, s.log, notifyd.ErrUnavailable) // this process does not run the engine
		return
	}
	if err := s.notificationInScope(c, c.Param("id")); err != nil {
		writeError(c, s.log, err)
		return
	}
	n, err := s.deadLetters.RetryNotification(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.deadNotificationError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toDeadNotificationJSON(*n))
}

func (s *Server) discardDeadNotification(c *gin.Context) {
	if err := s.notificationInScope(c, c.Param("id")); err != nil {
		writeError(c, s.log, err)
		return
	}
	if err := s.deadLog.DiscardDeadNotification(c.Request.Context(), c.Param("id"), time.Now()); err != nil {
		s.deadNotificationError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deadNotificationError maps the errors of retry and discard: ErrConflict
// means the notification is not dead.
func (s *Server) deadNotificationError(c *gin.Context, err error) {
	if errors.Is(err, notifyd.ErrConflict) {
		writeProblem(c, Problem{Type: ProblemConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: "The notification is not dead (it was read, retried or discarded since); GET /v1/dead-notifications lists the dead ones."})
		return
	}
	writeError(c, s.log, err)
}
