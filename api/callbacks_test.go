package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"database/sql"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twilio/twilio-go/client"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/store"
)

// The harness's Twilio account: the auth token callbacks are signed with,
// and the public URL notifyd gave Twilio (behind a proxy: the test
// server's own address differs).
const (
	twilioToken = "0123456789abcdef0123456789abcdef"
	// twilioFallbackToken is the harness's fallback account's token
	// (channels.twilio.fallback_accounts).
	twilioFallbackToken = "abcdef0123456789abcdef0123456789"
	twilioCallbackURL   = "https://notifyd.example.org/v1/callbacks/twilio"
	typeForbidden       = "urn:notifyd:problem:forbidden"
	callbackPath        = "/v1/callbacks/twilio"
)

// twilioSign computes X-Twilio-Signature as Twilio does: base64 of
// HMAC-SHA1(token, URL + each parameter's name and value, by name).
func twilioSign(token, rawURL string, form url.Values) string {
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

// statusForm is a status callback as Twilio posts it.
func statusForm(sid, status string, extra ...string) url.Values {
	f := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "ApiVersion": {"2010-04-01"},
		"From": {"+15005550006"}, "To": {"+14155550100"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// callback posts form to the callback endpoint with signature sig ("" for
// none).
func (h *harness) callback(t *testing.T, path string, form url.Values, sig string) response {
	t.Helper()
	req := request{method: http.MethodPost, path: path, body: strings.NewReader(form.Encode()),
		contentType: "application/x-www-form-urlencoded"}
	if sig != "" {
		req.header = map[string]string{"X-Twilio-Signature": sig}
	}
	return h.do(t, req)
}

// signedCallback posts a correctly signed status callback.
func (h *harness) signedCallback(t *testing.T, form url.Values) response {
	t.Helper()
	return h.callback(t, callbackPath, form, twilioSign(twilioToken, twilioCallbackURL, form))
}

// seedSMS stores, as the engine does, a notification and its SMS delivery
// that Twilio accepted as message sid; it returns the delivery's ID.
func (h *harness) seedSMS(t *testing.T, sid string) string {
	t.Helper()
	ctx := context.Background()
	nid := digestID("n", sid)
	id := digestID(nid, "sms", "+14155550100")
	rec := store.SyncRecord{System: sysCal, Principal: "/p/wilma", Token: "tok", Now: t0,
		Notifications: []store.NotificationRecord{{ID: nid, Href: "/p/wilma/notifications/" + sid + ".xml", ETag: `"1"`,
			Type: "share-invite", Parsed: []byte("{}")}},
		Deliveries: []store.DeliveryRecord{{ID: id, NotificationID: nid, SubscriptionID: "0190a3c4-0000-7000-8000-000000000001",
			MethodID: "m_sms", Channel: "sms", Address: "+14155550100"}}}
	err := h.db.Write(ctx, store.Durable, func(tx *sql.Tx) error {
		if _, err := store.RecordSync(ctx, tx, rec); err != nil {
			return err
		}
		_, err := store.RecordDeliveryAttempt(ctx, tx, store.DeliveryOutcome{ID: id, Status: store.DeliverySent, ProviderID: sid, Now: t1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// smsDelivery returns the delivery id as GET /v1/deliveries shows it.
func (h *harness) smsDelivery(t *testing.T, id string) delivery {
	t.Helper()
	for _, d := range h.listDeliveries(t, "system="+sysCal).Items {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delivery %s is not in the log", id)
	return delivery{}
}

const (
	sid1 = "SM0123456789abcdef0123456789abcdef"
	sid2 = "SMfedcba9876543210fedcba9876543210"
)

// The signature these tests compute is Twilio's: twilio-go's validator
// accepts it.
func TestTwilioSignHelperMatchesTwilio(t *testing.T) {
	t.Parallel()
	form := statusForm(sid1, "delivered")
	v := client.NewRequestValidator(twilioToken)
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	if !v.Validate(twilioCallbackURL, params, twilioSign(twilioToken, twilioCallbackURL, form)) {
		t.Fatal("twilio-go does not accept the test's signature")
	}
	if v.Validate(twilioCallbackURL, params, twilioSign("another-token", twilioCallbackURL, form)) {
		t.Fatal("twilio-go accepts a signature with another token")
	}
}

func TestTwilioCallbackRecordsStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedSMS(t, sid1)
	if d := h.smsDelivery(t, id); d.Status != store.DeliverySent {
		t.Fatalf("seeded %+v", d)
	}

	// Intermediate statuses change nothing.
	for _, status := range []string{"queued", "sending", "accepted", "scheduled"} {
		if res := h.signedCallback(t, statusForm(sid1, status)); res.status != http.StatusOK || len(res.body) != 0 {
			t.Errorf("%s: %d %s", status, res.status, res.body)
		}
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliverySent {
		t.Errorf("after intermediate statuses: %s", d.Status)
	}

	// sent, then delivered: visible in the delivery log.
	if res := h.signedCallback(t, statusForm(sid1, "sent")); res.status != http.StatusOK {
		t.Fatalf("sent: %d %s", res.status, res.body)
	}
	if res := h.signedCallback(t, statusForm(sid1, "delivered")); res.status != http.StatusOK {
		t.Fatalf("delivered: %d %s", res.status, res.body)
	}
	d := h.smsDelivery(t, id)
	if d.Status != store.DeliveryDelivered || d.LastError != "" || d.Channel != "sms" {
		t.Errorf("after delivered: %+v", d)
	}
	if page := h.listDeliveries(t, "status=delivered"); len(page.Items) != 1 || page.Items[0].ID != id {
		t.Errorf("status=delivered lists %v", ids(page.Items))
	}

	// A late "sent" does not undo "delivered".
	if res := h.signedCallback(t, statusForm(sid1, "sent")); res.status != http.StatusOK {
		t.Fatalf("late sent: %d", res.status)
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliveryDelivered {
		t.Errorf("a late sent changed delivered to %s", d.Status)
	}

	// undelivered, with Twilio's error code, on another message.
	id2 := h.seedSMS(t, sid2)
	res := h.signedCallback(t, statusForm(sid2, "undelivered", "ErrorCode", "30003", "ErrorMessage", "Unreachable destination handset"))
	if res.status != http.StatusOK {
		t.Fatalf("undelivered: %d %s", res.status, res.body)
	}
	d = h.smsDelivery(t, id2)
	if d.Status != store.DeliveryUndelivered || !strings.Contains(d.LastError, "30003") || !strings.Contains(d.LastError, "unreachable destination handset") {
		t.Errorf("after undelivered: %+v", d)
	}
}

func TestTwilioCallbackFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedSMS(t, sid1)
	if res := h.signedCallback(t, statusForm(sid1, "failed", "ErrorCode", "30007")); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliveryFailed || !strings.Contains(d.LastError, "Twilio error 30007 (message filtered by the carrier)") {
		t.Errorf("%+v", d)
	}
}

// A message undelivered because its recipient replied STOP (21610)
// suppresses the phone number, reason stop, by notifyd.
func TestTwilioCallbackStopSuppresses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSMS(t, sid1)
	if res := h.signedCallback(t, statusForm(sid1, "undelivered", "ErrorCode", "21610")); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	s, err := h.db.Suppressed(context.Background(), "sms", "+14155550100")
	if err != nil || s == nil || s.Reason != store.SuppressStop || !strings.Contains(s.Detail, "21610") || s.Actor != store.ActorNotifyd ||
		s.DeliveryID == "" {
		t.Fatalf("suppression %+v, %v; want stop by notifyd, naming the delivery", s, err)
	}
	// The API names the delivery too (checked against openapi.yaml by
	// the harness).
	res := h.do(t, request{method: http.MethodGet, path: "/v1/suppressions?channel=sms", bearer: apiKey})
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"delivery_id":"`+s.DeliveryID+`"`) {
		t.Errorf("GET /v1/suppressions: %d %s; want the entry's delivery_id", res.status, res.body)
	}
}

// A message notifyd has no delivery of is acknowledged: Twilio must not
// retry it for ever.
func TestTwilioCallbackUnknownMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedSMS(t, sid1)
	if res := h.signedCallback(t, statusForm(sid2, "delivered")); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliverySent {
		t.Errorf("another message's delivery changed: %+v", d)
	}
}

// Only Twilio's signature, over the public URL and the form as sent,
// with notifyd's auth token, is accepted.
func TestTwilioCallbackSignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedSMS(t, sid1)
	form := statusForm(sid1, "delivered")
	tampered := statusForm(sid1, "delivered")
	tampered.Set("MessageStatus", "failed")
	extra := statusForm(sid1, "delivered", "ErrorCode", "30003")
	for _, tt := range []struct {
		name string
		form url.Values
		sig  string
	}{
		{"no signature", form, ""},
		{"tampered body", tampered, twilioSign(twilioToken, twilioCallbackURL, form)},
		{"added parameter", extra, twilioSign(twilioToken, twilioCallbackURL, form)},
		{"signed for the test server's own URL", form, twilioSign(twilioToken, h.srv.URL+callbackPath, form)},
		{"signed for another path", form, twilioSign(twilioToken, "https://notifyd.example.org/v1/callbacks/other", form)},
		{"signed for http", form, twilioSign(twilioToken, "http://notifyd.example.org/v1/callbacks/twilio", form)},
		{"another token", form, twilioSign("fedcba9876543210fedcba9876543210", twilioCallbackURL, form)},
		{"not base64", form, "not a signature!"},
		{"another HMAC", form, base64.StdEncoding.EncodeToString([]byte("signature, but not this one"))},
	} {
		res := h.callback(t, callbackPath, tt.form, tt.sig)
		if res.status != http.StatusForbidden {
			t.Errorf("%s: %d %s", tt.name, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeForbidden {
			t.Errorf("%s: %s", tt.name, res.body)
		}
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliverySent {
		t.Errorf("a refused callback changed the delivery: %+v", d)
	}
	// The problem tells an operator which URL the signature is checked
	// against.
	res := h.callback(t, callbackPath, form, twilioSign(twilioToken, h.srv.URL+callbackPath, form))
	if p := res.problem(t); !strings.Contains(p.Detail, twilioCallbackURL) {
		t.Errorf("detail %q does not name the public URL", p.Detail)
	}
}

// A message sent through a fallback account has its callbacks signed
// with that account's token: they are recorded like the primary's.
func TestTwilioCallbackSignedByFallbackAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.seedSMS(t, sid1)
	form := statusForm(sid1, "delivered", "AccountSid", "ACabcdef0123456789abcdef0123456789")
	res := h.callback(t, callbackPath, form, twilioSign(twilioFallbackToken, twilioCallbackURL, form))
	if res.status != http.StatusOK {
		t.Fatalf("callback signed by the fallback account: %d %s", res.status, res.body)
	}
	if d := h.smsDelivery(t, id); d.Status != store.DeliveryDelivered {
		t.Errorf("delivery after the fallback account's callback: %+v", d)
	}
}

// Twilio signs the URL as it was given, with or without the default port,
// query string included.
func TestTwilioCallbackURLVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSMS(t, sid1)
	form := statusForm(sid1, "delivered")
	for name, sig := range map[string]string{
		"default port": twilioSign(twilioToken, "https://notifyd.example.org:443/v1/callbacks/twilio", form),
	} {
		if res := h.callback(t, callbackPath, form, sig); res.status != http.StatusOK {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	if res := h.callback(t, callbackPath+"?attempt=2", form, twilioSign(twilioToken, twilioCallbackURL+"?attempt=2", form)); res.status != http.StatusOK {
		t.Errorf("query string: %d %s", res.status, res.body)
	}
	if res := h.callback(t, callbackPath+"?attempt=2", form, twilioSign(twilioToken, twilioCallbackURL, form)); res.status != http.StatusForbidden {
		t.Errorf("query string left out of the signature: %d %s", res.status, res.body)
	}
	if res := h.callback(t, callbackPath, form, twilioSign(twilioToken, "https://notifyd.example.org:8443/v1/callbacks/twilio", form)); res.status != http.StatusForbidden {
		t.Errorf("another port: %d %s", res.status, res.body)
	}
}

func TestTwilioCallbackBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSMS(t, sid1)

	// Signed, but not what Twilio sends: 400 naming the field.
	for _, field := range []string{"MessageSid", "MessageStatus"} {
		form := statusForm(sid1, "delivered")
		form.Del(field)
		res := h.signedCallback(t, form)
		if res.status != http.StatusBadRequest {
			t.Errorf("without %s: %d %s", field, res.status, res.body)
			continue
		}
		if p := res.problem(t); p.Type != typeValidation {
			t.Errorf("without %s: %s", field, res.body)
		}
	}
	bad := statusForm("SM/../../etc", "delivered")
	if res := h.signedCallback(t, bad); res.status != http.StatusBadRequest {
		t.Errorf("odd MessageSid: %d %s", res.status, res.body)
	}

	// Signed JSON (Twilio signs other bodies by URL alone): not a form.
	res := h.do(t, request{method: http.MethodPost, path: callbackPath, body: strings.NewReader(`{"MessageSid":"x"}`),
		header: map[string]string{"X-Twilio-Signature": twilioSign(twilioToken, twilioCallbackURL, nil)}})
	if res.status != http.StatusUnsupportedMediaType || res.problem(t).Type != typeMediaType {
		t.Errorf("JSON: %d %s", res.status, res.body)
	}

	// Too large, signed or not: 413 before the signature is computed.
	big := statusForm(sid1, "delivered", "Padding", strings.Repeat("x", maxBody))
	res = h.callback(t, callbackPath, big, "c2lnbmF0dXJl")
	if res.status != http.StatusRequestEntityTooLarge || res.problem(t).Type != typeTooLarge {
		t.Errorf("too large: %d %s", res.status, res.body)
	}
	res = h.do(t, request{method: http.MethodPost, path: callbackPath, body: strings.NewReader(big.Encode()), contentLength: -1,
		contentType: "application/x-www-form-urlencoded", header: map[string]string{"X-Twilio-Signature": "c2lnbmF0dXJl"}})
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("too large, chunked: %d %s", res.status, res.body)
	}
}

// A database that cannot take the update answers 503, which Twilio may
// retry.
func TestTwilioCallbackUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.seedSMS(t, sid1)
	h.db.Close()
	res := h.signedCallback(t, statusForm(sid1, "delivered"))
	if res.status != http.StatusServiceUnavailable || res.problem(t).Type != typeUnavailable {
		t.Errorf("%d %s", res.status, res.body)
	}
}

// Without the SMS channel there is no token to check signatures with:
// every callback is refused.
func TestTwilioCallbackNotConfigured(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	handler, err := api.New(api.Options{MaxBodyBytes: maxBody, Gatherer: reg, Logger: log,
		Metrics: api.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&contractChecker{t: t, next: handler})
	defer srv.Close()
	form := statusForm(sid1, "delivered")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+callbackPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSign("", twilioCallbackURL, form))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not configured") {
		t.Errorf("%d %s", res.StatusCode, body)
	}
}
