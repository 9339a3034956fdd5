package sms_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/sms"
)

// Credentials of the test account, shaped as Twilio's.
const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
	testService = "MG0123456789abcdef0123456789abcdef"
	testFrom    = "+15005550006"
	testMsgSID  = "SM0123456789abcdef0123456789abcdef"
	callback    = "https://notifyd.example.org/v1/callbacks/twilio"
)

// fakeTwilio is an httptest Twilio Messages API that records each request
// and answers with reply.
type fakeTwilio struct {
	srv *httptest.Server

	mu    sync.Mutex
	reqs  []fakeRequest
	reply func(n int) (status int, header map[string]string, body string)
}

type fakeRequest struct {
	method, path string
	user, pass   string
	form         url.Values
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{reply: func(int) (int, map[string]string, string) {
		return http.StatusCreated, nil, `{"sid":"` + testMsgSID + `","status":"queued","account_sid":"` + testSID + `"}`
	}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		user, pass, _ := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeRequest{method: r.Method, path: r.URL.Path, user: user, pass: pass, form: form})
		n := len(f.reqs)
		reply := f.reply
		f.mu.Unlock()
		status, header, body := reply(n)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) setReply(status int, header map[string]string, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = func(int) (int, map[string]string, string) { return status, header, body }
}

func (f *fakeTwilio) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

func twilioConfig(baseURL string) config.Twilio {
	return config.Twilio{AccountSID: testSID, AuthToken: testToken, From: testFrom, MaxSegments: 3,
		BaseURL: baseURL, Timeout: 5 * time.Second}
}

func newChannel(t *testing.T, cfg config.Twilio) *sms.Channel {
	t.Helper()
	ch, err := sms.NewChannel(cfg, callback)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// request is a share invitation for +14155550100.
func request() *delivery.Request {
	return &delivery.Request{
		DeliveryID: "d1", System: "cal", Principal: "/principals/wilma/", Address: "+14155550100",
		Locale: "en", TimeZone: time.UTC, CalendarName: "Work",
		Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, Access: "read-write",
			From: notifyd.Person{CommonName: "Fred"}},
	}
}

func TestSendRequest(t *testing.T) {
	f := newFakeTwilio(t)
	ch := newChannel(t, twilioConfig(f.srv.URL))
	res, err := ch.Send(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderID != testMsgSID || res.Skipped != "" {
		t.Errorf("result %+v, want the message SID as provider ID", res)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("%s %s", r.method, r.path)
	}
	if r.user != testSID || r.pass != testToken {
		t.Errorf("basic auth %q:%q", r.user, r.pass)
	}
	want := url.Values{
		"To":             {"+14155550100"},
		"From":           {testFrom},
		"Body":           {`Fred shared the calendar "Work" with you (read-write). Accept or decline it in your calendar app.`},
		"StatusCallback": {callback},
	}
	if r.form.Encode() != want.Encode() {
		t.Errorf("form:\n got %v\nwant %v", r.form, want)
	}
}

func TestSendSender(t *testing.T) {
	f := newFakeTwilio(t)
	for _, tt := range []struct {
		from, service   string
		wantFrom, wantS bool
	}{
		{"", testService, false, true},
		{testFrom, testService, true, true},
		{"NotifyD", "", true, false}, // alphanumeric sender ID
		{"12345", "", true, false},   // short code
	} {
		cfg := twilioConfig(f.srv.URL)
		cfg.From, cfg.MessagingServiceSID = tt.from, tt.service
		if _, err := newChannel(t, cfg).Send(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		form := reqs[len(reqs)-1].form
		if got := form.Has("From"); got != tt.wantFrom || (got && form.Get("From") != tt.from) {
			t.Errorf("%q/%q: From %v", tt.from, tt.service, form["From"])
		}
		if got := form.Has("MessagingServiceSid"); got != tt.wantS || (got && form.Get("MessagingServiceSid") != tt.service) {
			t.Errorf("%q/%q: MessagingServiceSid %v", tt.from, tt.service, form["MessagingServiceSid"])
		}
		if form.Get("To") == "" || form.Get("Body") == "" || form.Get("StatusCallback") != callback {
			t.Errorf("%q/%q: form %v", tt.from, tt.service, form)
		}
	}
}

// Without a callback URL no StatusCallback is sent.
func TestSendWithoutCallback(t *testing.T) {
	f := newFakeTwilio(t)
	ch, err := sms.NewChannel(twilioConfig(f.srv.URL), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if form := f.requests()[0].form; form.Has("StatusCallback") {
		t.Errorf("StatusCallback sent: %v", form)
	}
}

// A base URL with a path prefixes the API's paths (a mock behind a
// reverse proxy).
func TestSendBaseURLPath(t *testing.T) {
	f := newFakeTwilio(t)
	if _, err := newChannel(t, twilioConfig(f.srv.URL+"/twilio/")).Send(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if p := f.requests()[0].path; p != "/twilio/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("path %s", p)
	}
}

// TestSendErrors classifies Twilio's replies the way the engine needs:
// temporary (with the Retry-After delay) or permanent, and gone for an
// unsubscribed recipient.
func TestSendErrors(t *testing.T) {
	f := newFakeTwilio(t)
	ch := newChannel(t, twilioConfig(f.srv.URL))
	twErr := func(status, code int, msg string) string {
		return `{"code":` + strconv.Itoa(code) + `,"message":"` + msg + `","more_info":"https://www.twilio.com/docs/errors/` + strconv.Itoa(code) + `","status":` + strconv.Itoa(status) + `}`
	}
	for _, tt := range []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		temporary  bool
		retryAfter time.Duration
		gone       bool
		code       int
		contains   string
	}{
		{"429 / 20429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, twErr(429, 20429, "Too Many Requests"), true, 7 * time.Second, false, 20429, "error 20429: Too Many Requests"},
		{"429 without Retry-After", 429, nil, twErr(429, 20429, "Too Many Requests"), true, 0, false, 20429, "20429"},
		{"20429 under another status", 400, nil, twErr(400, 20429, "Too Many Requests"), true, 0, false, 20429, "20429"},
		{"Retry-After as an HTTP date", 429, map[string]string{"Retry-After": time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, twErr(429, 20429, "Too Many Requests"), true, 90 * time.Second, false, 20429, ""},
		{"Retry-After capped at an hour", 503, map[string]string{"Retry-After": "86400"}, twErr(503, 20503, "Service Unavailable"), true, time.Hour, false, 20503, ""},
		{"500", 500, nil, twErr(500, 20500, "Internal Server Error"), true, 0, false, 20500, "HTTP 500"},
		{"503 HTML page of a proxy", 503, map[string]string{"Content-Type": "text/html", "Retry-After": "120"}, "<html><body>Service Unavailable</body></html>", true, 2 * time.Minute, false, 0, "HTTP 503"},
		{"502 empty body", 502, nil, "", true, 0, false, 0, "HTTP 502"},
		{"21211 invalid number", 400, nil, twErr(400, 21211, "Invalid 'To' Phone Number: +1415555010"), false, 0, false, 21211, "error 21211: Invalid 'To' Phone Number"},
		{"21610 unsubscribed recipient", 400, nil, twErr(400, 21610, "Attempt to send to unsubscribed recipient"), false, 0, true, 21610, "unsubscribed"},
		{"21614 not a mobile number", 400, nil, twErr(400, 21614, "'To' number is not a valid mobile number"), false, 0, false, 21614, "21614"},
		{"21408 region not enabled", 400, nil, twErr(400, 21408, "Permission to send an SMS has not been enabled for the region"), false, 0, false, 21408, "region"},
		{"401 20003 wrong credentials: configuration, retried", 401, nil, twErr(401, 20003, "Authenticate"), true, 0, false, 20003, "20003"},
		{"404 20404", 404, nil, twErr(404, 20404, "The requested resource was not found"), false, 0, false, 20404, "20404"},
		{"422 validation problem of a mock", 422, map[string]string{"Content-Type": "application/problem+json"},
			`{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"detail":"Your request is not valid","validation":[{"location":["body"],"severity":"Error","code":"required","message":"Request body must have required property 'To'"}]}`,
			false, 0, false, 0, "Invalid request: Request body must have required property 'To'"},
	} {
		f.setReply(tt.status, tt.header, tt.body)
		res, err := ch.Send(context.Background(), request())
		if err == nil {
			t.Errorf("%s: no error (%+v)", tt.name, res)
			continue
		}
		temporary, after := delivery.IsTemporary(err)
		if temporary != tt.temporary {
			t.Errorf("%s: temporary %v, want %v: %v", tt.name, temporary, tt.temporary, err)
		}
		if d := after - tt.retryAfter; d < -2*time.Second || d > 0 || (tt.retryAfter == 0 && after != 0) {
			t.Errorf("%s: retry after %v, want %v", tt.name, after, tt.retryAfter)
		}
		if gone := errors.Is(err, delivery.ErrRecipientGone); gone != tt.gone {
			t.Errorf("%s: recipient gone %v, want %v: %v", tt.name, gone, tt.gone, err)
		}
		var ae *sms.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: no *sms.APIError in %v", tt.name, err)
		} else if ae.Status != tt.status || ae.Code != tt.code || ae.Temporary() != tt.temporary {
			t.Errorf("%s: %+v", tt.name, ae)
		}
		if !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%s: %q lacks %q", tt.name, err, tt.contains)
		}
	}
}

// Replies that accept the message but cannot be used are permanent
// failures: sending again would send the message twice.
func TestSendOddAcceptances(t *testing.T) {
	f := newFakeTwilio(t)
	ch := newChannel(t, twilioConfig(f.srv.URL))
	for _, tt := range []struct {
		name, body, contains string
	}{
		{"unreadable", "not json", "could not be read"},
		{"no SID", `{"status":"queued"}`, "no message SID"},
		{"failed at once", `{"sid":"` + testMsgSID + `","status":"failed","error_code":30007,"error_message":"Message filtered"}`, "error 30007 Message filtered"},
	} {
		f.setReply(http.StatusCreated, nil, tt.body)
		_, err := ch.Send(context.Background(), request())
		if err == nil || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.contains)
		}
		if temporary, _ := delivery.IsTemporary(err); temporary {
			t.Errorf("%s: temporary", tt.name)
		}
	}
}

func TestSendUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = newChannel(t, twilioConfig("http://"+addr)).Send(context.Background(), request())
	if temporary, _ := delivery.IsTemporary(err); !temporary {
		t.Errorf("connection refused: %v, want temporary", err)
	}
}

// twilio-go takes no context: the channel's timeout and the Send's
// context still bound the request.
func TestSendTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	cfg := twilioConfig(srv.URL)
	cfg.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := newChannel(t, cfg).Send(context.Background(), request())
	if temporary, _ := delivery.IsTemporary(err); !temporary || !strings.Contains(err.Error(), "in time") {
		t.Errorf("timeout: %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}

	cfg.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = newChannel(t, cfg).Send(ctx, request())
	if temporary, _ := delivery.IsTemporary(err); !temporary {
		t.Errorf("cancelled: %v, want a temporary error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestSendRefusesBadAddresses(t *testing.T) {
	f := newFakeTwilio(t)
	ch := newChannel(t, twilioConfig(f.srv.URL))
	for _, addr := range []string{"", "0612345678", "+0123456", "+1 415 555 0100", "+1234567890123456", "wilma@example.org"} {
		req := request()
		req.Address = addr
		_, err := ch.Send(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "E.164") {
			t.Errorf("%q: %v", addr, err)
		}
		if temporary, _ := delivery.IsTemporary(err); temporary {
			t.Errorf("%q: temporary", addr)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid addresses", n)
	}
}

// A long text is shortened to channels.twilio.max_segments.
func TestSendShortens(t *testing.T) {
	f := newFakeTwilio(t)
	for _, max := range []int{1, 2} {
		cfg := twilioConfig(f.srv.URL)
		cfg.MaxSegments = max
		req := request()
		req.Notification = &notifyd.Notification{Type: notifyd.TypeResourceChange}
		for i := 0; i < 40; i++ {
			req.Notification.Changes = append(req.Notification.Changes, notifyd.Change{Kind: "updated", Summary: "Weekly meeting"})
		}
		if _, err := newChannel(t, cfg).Send(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		body := reqs[len(reqs)-1].form.Get("Body")
		if enc, n := sms.Segments(body); n != max || enc != sms.GSM7 || !strings.HasSuffix(body, "...") ||
			!strings.HasPrefix(body, `40 changes in "Work": changed "Weekly meeting"; `) {
			t.Errorf("max %d: %v, %d segments: %q", max, enc, n, body)
		}
	}
}

func TestSendRateLimit(t *testing.T) {
	f := newFakeTwilio(t)
	cfg := twilioConfig(f.srv.URL)
	cfg.RateLimit, cfg.Burst = 20, 1 // one message every 50ms
	ch := newChannel(t, cfg)
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := ch.Send(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("5 messages at 20/s took %v, want at least 200ms", d)
	}
	// Waiting for the limiter ends with the context, as a temporary error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ch.Send(ctx, request()); err == nil {
		t.Error("cancelled wait: no error")
	} else if temporary, _ := delivery.IsTemporary(err); !temporary {
		t.Errorf("cancelled wait: %v, want temporary", err)
	}
}

func TestNewChannelChecksConfiguration(t *testing.T) {
	for name, tt := range map[string]struct {
		edit     func(*config.Twilio)
		callback string
		want     string
	}{
		"account SID":         {func(c *config.Twilio) { c.AccountSID = "AC0123" }, callback, "account_sid"},
		"auth token":          {func(c *config.Twilio) { c.AuthToken = "tok-en!" }, callback, "auth_token"},
		"no sender":           {func(c *config.Twilio) { c.From = "" }, callback, "messaging_service_sid is required"},
		"From":                {func(c *config.Twilio) { c.From = "15551234567" + "0000" }, callback, "channels.twilio.from"},
		"From, too long ID":   {func(c *config.Twilio) { c.From = "NotifydAlerts" }, callback, "channels.twilio.from"},
		"messaging service":   {func(c *config.Twilio) { c.MessagingServiceSID = "MG12" }, callback, "messaging_service_sid"},
		"base URL":            {func(c *config.Twilio) { c.BaseURL = "localhost:4010" }, callback, "base_url"},
		"callback not a URL":  {func(c *config.Twilio) {}, "/v1/callbacks/twilio", "http.public_url"},
		"callback not http/s": {func(c *config.Twilio) {}, "ftp://example.org/v1/callbacks/twilio", "http.public_url"},
	} {
		cfg := twilioConfig("")
		tt.edit(&cfg)
		if _, err := sms.NewChannel(cfg, tt.callback); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tt.want)
		}
	}
}

// FromConfig enables SMS by channels.twilio.account_sid.
func TestFromConfig(t *testing.T) {
	f := sms.FromConfig
	cfg := config.Default()
	if ch, err := f(cfg, nil); ch != nil || err != nil {
		t.Errorf("unconfigured: %v, %v; want nil, nil", ch, err)
	}
	cfg.Channels.Twilio = twilioConfig("")
	ch, err := f(cfg, nil)
	if err != nil || ch == nil {
		t.Fatalf("configured: %v, %v", ch, err)
	}
	if _, ok := ch.(*sms.Channel); !ok {
		t.Errorf("%T", ch)
	}
	cfg.Channels.Twilio.AccountSID = "nonsense"
	if _, err := f(cfg, nil); err == nil {
		t.Error("a bad account SID is accepted")
	}
}

func TestCallbackURL(t *testing.T) {
	cfg := config.Default()
	if got := sms.CallbackURL(cfg); got != "http://127.0.0.1:8080/v1/callbacks/twilio" {
		t.Errorf("default: %s", got)
	}
	cfg.HTTP.PublicURL = "https://notify.example.org/base/"
	if got := sms.CallbackURL(cfg); got != "https://notify.example.org/base/v1/callbacks/twilio" {
		t.Errorf("public URL: %s", got)
	}
}

// A reminder is sent within max_segments with its time and place, its
// long summary cut rather than its end.
func TestSendReminderFitsItsSegments(t *testing.T) {
	f := newFakeTwilio(t)
	cfg := twilioConfig(f.srv.URL)
	cfg.MaxSegments = 1
	req := request()
	req.Locale = "fr"
	req.Notification = &notifyd.Notification{Type: notifyd.TypeReminder,
		Event: &notifyd.Event{Summary: "Revue trimestrielle du budget 🎉 et des prévisions pour l'année", Location: "Salle 4",
			Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		Reminder: &notifyd.Reminder{UID: "budget-1", Component: "event", Trigger: time.Date(2026, 12, 1, 7, 45, 0, 0, time.UTC)}}
	if _, err := newChannel(t, cfg).Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	body := reqs[len(reqs)-1].form.Get("Body")
	if _, n := sms.Segments(body); n != 1 || !strings.HasPrefix(body, "Rappel : Revue trimestrielle") || !strings.HasSuffix(body, ", 8h00-9h00, Salle 4") {
		t.Errorf("%d segments: %q", n, body)
	}
}
