package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// TestFaultPoisonNotifications: of the three notifications Cyrus makes
// for u001, one is served (through a proxy in front of Cyrus) with a body
// that is not XML, one with a 50 MB body; one of u002's has a 50 MB body
// without Content-Length. They are set aside with a clear reason and
// never delivered; the others of u001 and u002 and everybody else's are
// delivered once.
func TestFaultPoisonNotifications(t *testing.T) {
	const calendars, huge = 3, 50 << 20
	sink := peertest.StartSMTP(t)
	var proxy *peertest.FaultProxy
	r := newFaultRig(t, rigOptions{tag: "poison", users: 20, channels: smtpChannel(t, sink), methods: emailTo,
		caldav: func(cyrus string) string {
			proxy = peertest.StartFaultProxy(t, cyrus)
			return proxy.URL
		}})
	r.start(emailReceiver(sink))
	for range calendars {
		r.produce(t, r.users)
	}
	poison := map[string]string{} // href -> what is wrong with it
	for k, what := range map[noticeKey]string{
		{"u001", "poison-cal01"}: "not XML",
		{"u001", "poison-cal02"}: "50 MB",
		{"u002", "poison-cal03"}: "50 MB chunked",
	} {
		poison[r.setAside(k)] = what
	}
	proxy.SetFaults(func(req *http.Request, _ url.Values) peertest.Fault {
		if req.Method != http.MethodGet {
			return peertest.Fault{}
		}
		switch poison[req.URL.Path] {
		case "not XML":
			return peertest.Fault{Replace: []byte("this is not XML, {\"nor\": \"anything else\"}\n")}
		case "50 MB":
			return peertest.Fault{BodyBytes: huge}
		case "50 MB chunked":
			return peertest.Fault{BodyBytes: huge, Chunked: true}
		}
		return peertest.Fault{}
	})
	r.ping(t, r.users)

	tl := r.settle(t, time.Minute)
	r.check(t, tl, 0)
	// An operator sees them, with the reason, in the dead notifications.
	code, body := r.nd.api(t, http.MethodGet, "/v1/dead-notifications?system=cal", nil)
	listed := map[string]string{}
	if items, ok := body["items"].([]any); code == http.StatusOK && ok {
		for _, it := range items {
			n := it.(map[string]any)
			listed[n["href"].(string)], _ = n["reason"].(string)
		}
	}
	for href, what := range poison {
		if strings.TrimSpace(listed[href]) == "" {
			t.Errorf("GET /v1/dead-notifications (%d) does not list the %s notification %s with a reason: %v", code, what, href, body)
		}
	}
	for href, what := range poison {
		var status, reason string
		err := r.nd.db().QueryRow(`SELECT status, error FROM notifications WHERE href = $1`, href).Scan(&status, &reason)
		t.Logf("%s notification: %s, %q", what, status, reason)
		if err != nil || status != "dead" || strings.TrimSpace(reason) == "" {
			t.Errorf("the %s notification %s: status %q, reason %q (%v); want it set aside as dead with the reason", what, href, status, reason, err)
		}
		if n := r.logLines("is recorded as dead", href); n != 1 {
			t.Errorf("the %s notification is logged as set aside %d times, want once", what, n)
		}
	}
	if n := metric(t, r.nd, `notifyd_notifications_total{system="cal",type="dead"}`); n != float64(len(poison)) {
		t.Errorf("notifyd_notifications_total{type=dead} = %v, want %d", n, len(poison))
	}
}
