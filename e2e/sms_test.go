package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The Twilio account notifyd is configured with (shaped as Twilio's: Prism
// checks the account SID against the pattern of Twilio's document).
const (
	smsAccountSID = "AC0123456789abcdef0123456789abcdef"
	smsAuthToken  = "0123456789abcdef0123456789abcdef"
	smsFrom       = "+15005550006"
	smsTo         = "+14155550100"
)

// smsSign computes X-Twilio-Signature as Twilio does.
func smsSign(token, rawURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	s := rawURL
	for _, k := range names {
		for _, v := range form[k] {
			s += k + v
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// smsCallback posts a status callback to notifyd as Twilio would, signed
// with sig ("" for none), and returns the status and body.
func smsCallback(t *testing.T, nd *instance, form url.Values, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, nd.baseURL+"/v1/callbacks/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// smsDeliveries returns user's deliveries from GET /v1/deliveries.
func smsDeliveries(t *testing.T, nd *instance, cy *peertest.Cyrus, user string) []map[string]any {
	t.Helper()
	code, body := nd.api(t, http.MethodGet, "/v1/deliveries?system=cyrus&principal="+cy.PrincipalHref(user), nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %v", code, body)
	}
	var ds []map[string]any
	items, _ := body["items"].([]any)
	for _, it := range items {
		ds = append(ds, it.(map[string]any))
	}
	return ds
}

// smsWaitDeliveries waits until user has n deliveries, all final.
func smsWaitDeliveries(t *testing.T, nd *instance, cy *peertest.Cyrus, prism *peertest.Prism, user string, n int) []map[string]any {
	t.Helper()
	return waitFinal(t, time.Minute, n, func() []map[string]any { return smsDeliveries(t, nd, cy, user) },
		func() string { return fmt.Sprintf("(%s)\nnotifyd log:\n%s\nPrism log:\n%s", user, nd.log, prism.Log()) })
}

// TestSMSDelivery delivers a real Cyrus notification by SMS through the
// notifyd binary to Prism serving Twilio's OpenAPI document (which checks
// the request against Twilio's contract), then reports its delivery with a
// signed status callback, as Twilio would.
func TestSMSDelivery(t *testing.T) {
	cy := peertest.StartCyrus(t, "fred", "wilma")
	prism := peertest.StartPrism(t)
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  cyrus:
    caldav_url: %s/
    tokens: [%s]
    username: notifier
    password: notifierpw
    principal_prefix: /dav/principals/
    after_delivery: keep
    timeout: 5s
channels:
  twilio:
    account_sid: %s
    auth_token: %s
    from: "%s"
    base_url: %s
    timeout: 5s
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, cy.BaseURL, pingToken, smsAccountSID, smsAuthToken, smsFrom, prism.URL))
	nd.start()
	if !strings.Contains(nd.log.String(), "sms channel ready") {
		t.Fatalf("the sms channel did not start:\n%s", nd.log)
	}
	callbackURL := nd.baseURL + "/v1/callbacks/twilio" // http.public_url is unset: http:// + http.addr

	code, body := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{
		"system": "cyrus", "principal": cy.PrincipalHref("wilma"), "time_zone": "Europe/Paris", "locale": "fr",
		"methods": []map[string]any{{"channel": "sms", "address": smsTo}},
	})
	if code != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", code, body)
	}
	cy.Share(t, "fred", "wilma", true)
	ping, _ := json.Marshal(map[string]any{"system": "cyrus", "token": pingToken, "hrefs": []string{cy.PrincipalHref("wilma")}})
	resp, err := http.Post(nd.baseURL+"/v1/notifications", "application/json", bytes.NewReader(ping))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping: %d", resp.StatusCode)
	}

	ds := smsWaitDeliveries(t, nd, cy, prism, "wilma", 1)
	if len(ds) != 1 || ds[0]["status"] != "sent" || ds[0]["channel"] != "sms" || ds[0]["address"] != smsTo {
		t.Fatalf("deliveries %v\nnotifyd log:\n%s\nPrism log:\n%s", ds, nd.log, prism.Log())
	}
	id := ds[0]["id"].(string)
	sid, _ := ds[0]["provider_id"].(string)
	if !regexp.MustCompile(`^SM[0-9a-fA-F]{32}$`).MatchString(sid) {
		t.Fatalf("provider ID %q is not a Twilio message SID", sid)
	}
	if !strings.Contains(prism.Log(), "/2010-04-01/Accounts/"+smsAccountSID+"/Messages.json") {
		t.Errorf("Prism did not log the message:\n%s", prism.Log())
	}

	status := func() string {
		for _, d := range smsDeliveries(t, nd, cy, "wilma") {
			if d["id"] == id {
				return d["status"].(string)
			}
		}
		return ""
	}
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"},
		"AccountSid": {smsAccountSID}, "From": {smsFrom}, "To": {smsTo}, "ApiVersion": {"2010-04-01"}}

	t.Run("an unsigned or wrongly signed callback is refused", func(t *testing.T) {
		for name, sig := range map[string]string{
			"unsigned":           "",
			"another token":      smsSign("fedcba9876543210fedcba9876543210", callbackURL, form),
			"another URL":        smsSign(smsAuthToken, "https://elsewhere.example.org/v1/callbacks/twilio", form),
			"another MessageSid": smsSign(smsAuthToken, callbackURL, url.Values{"MessageSid": {"SMffffffffffffffffffffffffffffffff"}, "MessageStatus": {"delivered"}}),
		} {
			code, body := smsCallback(t, nd, form, sig)
			if code != http.StatusForbidden || !strings.Contains(body, "urn:notifyd:problem:forbidden") {
				t.Errorf("%s: %d %s", name, code, body)
			}
		}
		if s := status(); s != "sent" {
			t.Errorf("a refused callback changed the status to %s", s)
		}
	})

	t.Run("a signed delivered callback marks the delivery delivered", func(t *testing.T) {
		queued := url.Values{"MessageSid": {sid}, "MessageStatus": {"sending"}, "AccountSid": {smsAccountSID}}
		if code, body := smsCallback(t, nd, queued, smsSign(smsAuthToken, callbackURL, queued)); code != http.StatusOK {
			t.Fatalf("sending: %d %s", code, body)
		}
		if s := status(); s != "sent" {
			t.Errorf("after sending: %s", s)
		}
		if code, body := smsCallback(t, nd, form, smsSign(smsAuthToken, callbackURL, form)); code != http.StatusOK {
			t.Fatalf("delivered: %d %s\n%s", code, body, nd.log)
		}
		if s := status(); s != "delivered" {
			t.Errorf("after the delivered callback: %s", s)
		}
		unknown := url.Values{"MessageSid": {"SMffffffffffffffffffffffffffffffff"}, "MessageStatus": {"failed"}, "ErrorCode": {"30003"}}
		if code, body := smsCallback(t, nd, unknown, smsSign(smsAuthToken, callbackURL, unknown)); code != http.StatusOK {
			t.Errorf("unknown message: %d %s", code, body)
		}
		if s := status(); s != "delivered" {
			t.Errorf("after a callback for another message: %s", s)
		}
	})
}
