package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// twilioRetryAfter is the delay the faulty Twilio asks for with its 429s:
// far longer than notifyd's own backoff in the rigs (200 ms up to 2 s),
// so that a retry that ignores it comes too early.
const twilioRetryAfter = 3 * time.Second

// TestFaultTwilioRateLimitedAndFailing: notifyd sends 200 SMS through a
// proxy in front of Prism (Twilio's API document) that answers about a
// quarter of the messages with 429 Too Many Requests and a Retry-After,
// and about one in seven with 500. Each message reaches Prism once, and
// no message refused with a Retry-After is tried again before that delay.
func TestFaultTwilioRateLimitedAndFailing(t *testing.T) {
	const waves = 4
	prism := peertest.StartPrism(t)
	proxy := peertest.StartFaultProxy(t, prism.URL)
	r := newFaultRig(t, rigOptions{tag: "sms", users: 50, channels: twilioChannel(proxy), methods: func(_ string, i int) []method {
		return []method{{"sms", smsNumber(i)}}
	}})
	proxy.SetFaults(twilioFaults(r, 0.25, 0.15))
	r.start(smsReceiver(proxy))
	for range waves {
		r.wave(t, r.users)
	}

	tl := r.settle(t, 2*time.Minute)
	r.check(t, tl, 0)
	if t.Failed() {
		t.Logf("Prism log:\n%s", tail(prism.Log(), 30))
	}

	// Every message refused with a Retry-After came back no sooner.
	type msgKey struct{ to, body string }
	var last = map[msgKey]peertest.Exchange{}
	var limited, failed, retried, early int
	for _, x := range proxy.Exchanges() {
		if x.Form == nil {
			continue
		}
		k := msgKey{x.Form.Get("To"), x.Form.Get("Body")}
		if prev, ok := last[k]; ok && prev.Status == http.StatusTooManyRequests {
			retried++
			if wait := x.At.Sub(prev.At); wait < twilioRetryAfter {
				early++
				t.Errorf("SMS to %s tried again %s after a 429 asking for %s", k.to, wait.Round(time.Millisecond), twilioRetryAfter)
			}
		}
		switch x.Status {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusInternalServerError:
			failed++
		}
		last[k] = x
	}
	t.Logf("%d answers 429 with Retry-After %s (%d retried, %d of them too early), %d answers 500", limited, twilioRetryAfter, retried, early, failed)
	if retried == 0 || failed == 0 {
		t.Errorf("%d 429s were retried and %d 500s answered: the faults did not happen", retried, failed)
	}
}

// twilioChannel is the channels YAML for Twilio's API behind proxy.
func twilioChannel(proxy *peertest.FaultProxy) string {
	return fmt.Sprintf(`  twilio:
    account_sid: %s
    auth_token: %s
    from: "%s"
    base_url: %s
    timeout: 5s`, smsAccountSID, smsAuthToken, smsFrom, proxy.URL)
}

// smsNumber is user i's phone number.
func smsNumber(i int) string { return fmt.Sprintf("+1415555%04d", i) }

// twilioFaults answers a share of the messages sent with 429 and a
// Retry-After of twilioRetryAfter, and another share with 500.
func twilioFaults(r *faultRig, limited, failed float64) func(*http.Request, url.Values) peertest.Fault {
	return func(req *http.Request, _ url.Values) peertest.Fault {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/Messages.json") {
			return peertest.Fault{}
		}
		switch x := r.random(); {
		case x < limited:
			return twilioError(http.StatusTooManyRequests, 20429, "Too Many Requests",
				"Retry-After", strconv.Itoa(int(twilioRetryAfter/time.Second)))
		case x < limited+failed:
			return twilioError(http.StatusInternalServerError, 20500, "Internal Server Error")
		}
		return peertest.Fault{}
	}
}

// twilioError is an error answer shaped as Twilio's, with header name
// and value pairs.
func twilioError(status, code int, message string, header ...string) peertest.Fault {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	body := fmt.Sprintf(`{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, message, code, status)
	return peertest.Fault{Status: status, Header: h, Body: []byte(body)}
}
