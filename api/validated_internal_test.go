package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// The contract validator hands the body it decoded to the handlers, so
// that a ping or a published event is not decoded a second time on the
// hot path.
func TestValidatorHandsOnTheDecodedBody(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, body string
		check      func(*gin.Context) bool
	}{
		{"/v1/notifications", `{"system":"campus","token":"t0123456789","hrefs":["/principals/users/fred","/principals/users/jim"]}`,
			func(c *gin.Context) bool {
				p, ok := validatedPing(c)
				return ok && p.System == "campus" && p.Token == "t0123456789" &&
					slices.Equal(p.Hrefs, []string{"/principals/users/fred", "/principals/users/jim"})
			}},
		{"/v1/events", `{"system":"campus","token":"t0123456789","topic":"calendar.event.created","principal":"/principals/users/fred","uid":"u1"}`,
			func(c *gin.Context) bool {
				e, ok := validatedPublish(c)
				return ok && e.System == "campus" && e.Topic == "calendar.event.created" && e.UID == "u1"
			}},
	} {
		route, err := ct.route(http.MethodPost, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		handed := false
		e := gin.New()
		e.POST(tc.path, ct.validator(route, 1<<20, nil), func(c *gin.Context) {
			handed = tc.check(c)
			c.Status(http.StatusAccepted)
		})
		req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("%s: status %d: %s", tc.path, rec.Code, rec.Body)
		}
		if !handed {
			t.Errorf("%s: the handler did not get the body the validator decoded", tc.path)
		}
	}
}
