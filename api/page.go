package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// pageQuery is what a list request asks for: the principal filter, how
// many items (query.limit, default 100) and where to start (query.cursor:
// after the item created at AfterTime with ID AfterID).
type pageQuery struct {
	Principal string
	Limit     int
	AfterTime time.Time
	AfterID   string
}

// listPage answers a list ordered by creation time and ID one page at a
// time ({"items": […], "next_cursor": …}). fetch reads at most q.Limit
// items from q's position; pos gives an item's creation time and ID, show
// its JSON form. IDs are notifyd's digests (see digestID).
func listPage[T, J any](s *Server, c *gin.Context, fetch func(q pageQuery) ([]T, error), pos func(T) (time.Time, string), show func(T) J) {
	listPageOf(s, c, digestID, fetch, pos, show)
}

// listPageOf is listPage for a list ordered by another time (a reminder's
// trigger) and whose IDs are the strings validID accepts.
func listPageOf[T, J any](s *Server, c *gin.Context, validID func(string) bool, fetch func(q pageQuery) ([]T, error),
	pos func(T) (time.Time, string), show func(T) J) {
	q := pageQuery{Limit: 100}
	if l := c.Query("limit"); l != "" {
		q.Limit, _ = strconv.Atoi(l) // the contract checked it is an integer in 1..500
	}
	if cur := c.Query("cursor"); cur != "" {
		at, id, ok := parseCursor(cur, validID)
		if !ok {
			badRequest(c, "The cursor is not one notifyd issued.", notifyd.FieldError{Field: "query.cursor", Detail: "pass next_cursor from the previous page unchanged"})
			return
		}
		q.AfterTime, q.AfterID = at, id
	}
	var ok bool
	if q.Principal, ok = principalFilter(c); !ok {
		return
	}
	limit := q.Limit
	q.Limit++ // one more tells whether there is a next page
	items, err := fetch(q)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	type page struct {
		Items      []J    `json:"items"`
		NextCursor string `json:"next_cursor,omitempty"`
	}
	out := page{Items: []J{}}
	if len(items) > limit {
		items = items[:limit]
		out.NextCursor = cursor(pos(items[limit-1]))
	}
	for _, it := range items {
		out.Items = append(out.Items, show(it))
	}
	c.JSON(http.StatusOK, out)
}

// cursor encodes the position after an item: its creation time (or the
// time the list is ordered by) and ID (lists are ordered by both).
func cursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
}

// parseCursor decodes a cursor whose ID validID accepts.
func parseCursor(cur string, validID func(string) bool) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cur)
	if err != nil {
		return time.Time{}, "", false
	}
	us, id, found := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !found || err != nil || !validID(id) {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// digestID reports whether id is one of notifyd's digest IDs: 32
// lower-case hex digits.
func digestID(id string) bool {
	return len(id) == 32 && strings.Trim(id, "0123456789abcdef") == ""
}
