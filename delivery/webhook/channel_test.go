package webhook

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
)

const testDeliveryID = "5f0c1a2b3c4d5e6f708192a3b4c5d6e7"

var testNotification = &notifyd.Notification{
	Type:     notifyd.TypeShareInvite,
	Element:  "{http://calendarserver.org/ns/}invite-notification",
	UID:      "invite-1",
	DTStamp:  time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC),
	From:     notifyd.Person{Href: "mailto:fred@example.org", CommonName: "Fred"},
	Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/", DisplayName: "Work"},
	Access:   "read-write",
}

func testRequest(address string) *delivery.Request {
	return &delivery.Request{
		DeliveryID:   testDeliveryID,
		Notification: testNotification,
		System:       "cyrus",
		Principal:    "/dav/principals/user/wilma/",
		Address:      address,
		Locale:       "en",
		TimeZone:     time.UTC,
		CalendarName: "Work",
		Method: notifyd.DeliveryMethod{ID: "m1", Channel: notifyd.ChannelWebhook, Address: address,
			Enabled: true, Secret: specSecret},
	}
}

// received is one request a receiver got.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// receiver is a local webhook receiver answering with answer (204 when
// nil) and recording every request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t testing.TB, tls bool, answer func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Method, r.URL.RequestURI(), r.Header.Clone(), body})
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	rc.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests make fail
	if tls {
		rc.StartTLS()
	} else {
		rc.Start()
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// newTestChannel is a channel allowed to reach the local receiver, trusting
// its certificate.
func newTestChannel(t testing.TB, rc *receiver, cfg config.Webhook) *Channel {
	cfg.AllowPrivate = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	var opts []Option
	if rc != nil && rc.Certificate() != nil {
		pool := x509.NewCertPool()
		pool.AddCert(rc.Certificate())
		opts = append(opts, WithRootCAs(pool))
	}
	ch := New(cfg, opts...)
	t.Cleanup(func() { ch.Close() })
	return ch
}

func TestSendSignedRequest(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http loopback", true: "https"}[useTLS]
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t, useTLS, nil)
			ch := newTestChannel(t, rc, config.Webhook{})
			before := time.Now()
			res, err := ch.Send(context.Background(), testRequest(rc.URL+"/hooks/notifyd?tenant=7"))
			if err != nil {
				t.Fatal(err)
			}
			if res != (delivery.Result{}) {
				t.Errorf("result %+v", res)
			}
			got := rc.requests()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			r := got[0]
			if r.method != http.MethodPost || r.path != "/hooks/notifyd?tenant=7" {
				t.Errorf("%s %s", r.method, r.path)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if ua := r.header.Get("User-Agent"); !strings.HasPrefix(ua, "notifyd/") {
				t.Errorf("User-Agent %q does not name notifyd", ua)
			}
			if id := r.header.Get("webhook-id"); id != testDeliveryID {
				t.Errorf("webhook-id %q, want the delivery ID", id)
			}
			ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
			if err != nil {
				t.Fatalf("webhook-timestamp: %v", err)
			}
			if err := verifyStandardWebhook(specSecret, r.header, r.body, time.Now()); err != nil {
				t.Errorf("signature: %v", err)
			}
			// The signature is over this attempt's timestamp.
			if at := time.Unix(ts, 0); at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
				t.Errorf("webhook-timestamp %v not the attempt's time", at)
			}
			if err := verifyStandardWebhook("whsec_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", r.header, r.body, time.Now()); err == nil {
				t.Error("the signature verifies with another secret")
			}
		})
	}
}

// TestBodySchema pins the body receivers rely on.
func TestBodySchema(t *testing.T) {
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{})
	if _, err := ch.Send(context.Background(), testRequest(rc.URL)); err != nil {
		t.Fatal(err)
	}
	body := rc.requests()[0].body
	const want = `{"type":"notification.share-invite","timestamp":"2025-03-01T09:30:00Z","data":{` +
		`"system":"cyrus","principal":"/dav/principals/user/wilma/","notification":{` +
		`"type":"share-invite","element":"{http://calendarserver.org/ns/}invite-notification","uid":"invite-1",` +
		`"dtstamp":"2025-03-01T09:30:00Z","from":{"href":"mailto:fred@example.org","common_name":"Fred"},` +
		`"calendar":{"href":"/dav/calendars/user/fred/Work/","display_name":"Work"},"access":"read-write"},` +
		`"delivery_id":"` + testDeliveryID + `"}}`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}

	var p struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	var data map[string]json.RawMessage
	json.Unmarshal(p.Data, &data)
	if keys := sortedKeys(data); !reflect.DeepEqual(keys, []string{"delivery_id", "notification", "principal", "system"}) {
		t.Errorf("data keys %v", keys)
	}
	var n notifyd.Notification
	if err := json.Unmarshal(data["notification"], &n); err != nil || !reflect.DeepEqual(&n, testNotification) {
		t.Errorf("notification round trip: %+v %v", n, err)
	}
}

func TestPayloadTimestampWithoutDTStamp(t *testing.T) {
	req := testRequest("https://hooks.example.org/")
	req.Notification = &notifyd.Notification{Type: ""}
	at := time.Date(2025, 6, 7, 8, 9, 10, 123, time.FixedZone("x", 3600))
	p, err := NewPayload(req, at)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != "notification.other" || !p.Timestamp.Equal(at) || p.Timestamp.Location() != time.UTC {
		t.Errorf("%+v", p)
	}
	req.Notification = nil
	if _, err := Render(req, at); err == nil {
		t.Error("a request without a notification rendered")
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSameIDAcrossRetries(t *testing.T) {
	var n atomic.Int32
	rc := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ch := newTestChannel(t, rc, config.Webhook{})
	req := testRequest(rc.URL)
	if _, err := ch.Send(context.Background(), req); err == nil {
		t.Fatal("503 accepted")
	}
	ch.now = func() time.Time { return time.Now().Add(3 * time.Second) } // a later attempt
	if _, err := ch.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := rc.requests()
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Error("webhook-id changed between attempts")
	}
	if got[0].header.Get("webhook-timestamp") == got[1].header.Get("webhook-timestamp") {
		t.Error("the retry reused the first attempt's timestamp")
	}
	for i, r := range got {
		if err := verifyStandardWebhook(specSecret, r.header, r.body, time.Now().Add(3*time.Second)); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
}

func TestStatusClassification(t *testing.T) {
	// httpDate stands for an HTTP date 30 s after the receiver answers;
	// the delay is then checked against the instants around the send.
	const httpDate = "HTTP date in 30 s"
	for _, tc := range []struct {
		status     int
		header     map[string]string
		body       string
		want       string // "sent", "temporary", "permanent"
		retryAfter time.Duration
		gone       bool
	}{
		{status: 200, want: "sent"},
		{status: 202, want: "sent"},
		{status: 204, want: "sent"},
		{status: 400, body: `{"error":"bad payload"}`, want: "permanent"},
		{status: 401, want: "permanent"},
		{status: 404, body: "no such hook", want: "permanent"},
		{status: 410, want: "permanent", gone: true},
		{status: 413, want: "permanent"},
		{status: 408, want: "temporary"},
		{status: 429, header: map[string]string{"Retry-After": "7"}, want: "temporary", retryAfter: 7 * time.Second},
		{status: 429, want: "temporary"},
		{status: 500, want: "temporary"},
		{status: 502, want: "temporary"},
		{status: 503, want: "temporary"},
		{status: 503, header: map[string]string{"Retry-After": "120"}, want: "temporary", retryAfter: 2 * time.Minute},
		{status: 503, header: map[string]string{"Retry-After": httpDate}, want: "temporary"},
		{status: 503, header: map[string]string{"Retry-After": "99999999"}, want: "temporary", retryAfter: time.Hour},
		{status: 503, header: map[string]string{"Retry-After": "soon"}, want: "temporary"},
		{status: 504, want: "temporary"},
	} {
		dates := make(chan time.Time, 1)
		rc := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				if v == httpDate {
					date := time.Now().Add(30 * time.Second).Truncate(time.Second)
					v = date.UTC().Format(http.TimeFormat)
					dates <- date
				}
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		ch := newTestChannel(t, rc, config.Webhook{})
		start := time.Now()
		_, err := ch.Send(context.Background(), testRequest(rc.URL))
		end := time.Now()
		temp, after := delivery.IsTemporary(err)
		var got string
		switch {
		case err == nil:
			got = "sent"
		case temp:
			got = "temporary"
		default:
			got = "permanent"
		}
		if got != tc.want {
			t.Errorf("%d %v: %s (%v), want %s", tc.status, tc.header, got, err, tc.want)
			continue
		}
		var date time.Time
		select {
		case date = <-dates:
		default:
		}
		if !date.IsZero() {
			// Read between start and end, rounded to the second at most.
			if after < date.Sub(end)-time.Second || after > date.Sub(start)+time.Second {
				t.Errorf("%d %v: retry after %s, want %s to %s", tc.status, tc.header, after, date.Sub(end), date.Sub(start))
			}
		} else if d := after - tc.retryAfter; d < -time.Second || d > time.Second {
			t.Errorf("%d %v: retry after %s, want %s", tc.status, tc.header, after, tc.retryAfter)
		}
		if err != nil {
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status {
				t.Errorf("%d: no StatusError in %v", tc.status, err)
			}
			if !strings.Contains(err.Error(), http.StatusText(tc.status)) || (tc.body != "" && !strings.Contains(err.Error(), tc.body[:5])) {
				t.Errorf("%d: the error does not show the status and body: %v", tc.status, err)
			}
		}
		if gone := errors.Is(err, delivery.ErrRecipientGone); gone != tc.gone {
			t.Errorf("%d: recipient gone = %v", tc.status, gone)
		}
	}
}

func TestErrorBodyBoundedAndSanitized(t *testing.T) {
	body := "\x1b[31mbad\u202e input\r\n\n\tfrom \xff receiver " + strings.Repeat("x", 1<<20)
	rc := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, body)
	})
	ch := newTestChannel(t, rc, config.Webhook{})
	_, err := ch.Send(context.Background(), testRequest(rc.URL+"/h?token=s3cret"))
	if err == nil {
		t.Fatal("400 accepted")
	}
	msg := err.Error()
	if len(msg) > 600 {
		t.Errorf("error of %d bytes", len(msg))
	}
	if !strings.Contains(msg, "[31mbad input from \uFFFD receiver xxx") || !strings.HasSuffix(msg, "x…") {
		t.Errorf("snippet not cleaned: %s", msg)
	}
	if strings.ContainsAny(msg, "\x1b\u202e\r\n\t") || strings.Contains(msg, "s3cret") {
		t.Errorf("error shows control characters or the query: %q", msg)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var followed atomic.Int32
	target := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	for _, code := range []int{301, 302, 307, 308} {
		rc := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", code)
		})
		ch := newTestChannel(t, rc, config.Webhook{})
		_, err := ch.Send(context.Background(), testRequest(rc.URL))
		if err == nil {
			t.Fatalf("%d: sent", code)
		}
		if temp, _ := delivery.IsTemporary(err); temp {
			t.Errorf("%d: temporary: %v", code, err)
		}
		if !strings.Contains(err.Error(), target.URL+"/elsewhere") || !strings.Contains(err.Error(), "not followed") {
			t.Errorf("%d: the error does not name the Location: %v", code, err)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}
}

func TestTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ch := newTestChannel(t, rc, config.Webhook{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := ch.Send(context.Background(), testRequest(rc.URL))
	if temp, _ := delivery.IsTemporary(err); !temp {
		t.Fatalf("timeout: %v, want temporary", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the timeout of 100ms took %s", d)
	}
	if !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error %v", err)
	}
}

func TestConnectionErrorsAreTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ch := newTestChannel(t, nil, config.Webhook{})
	_, err = ch.Send(context.Background(), testRequest("http://"+addr+"/"))
	if temp, _ := delivery.IsTemporary(err); !temp {
		t.Fatalf("connection refused: %v, want temporary", err)
	}

	// An https receiver whose certificate is not trusted.
	rc := newReceiver(t, true, nil)
	ch = New(config.Webhook{AllowPrivate: true, Timeout: 5 * time.Second})
	defer ch.Close()
	_, err = ch.Send(context.Background(), testRequest(rc.URL))
	if temp, _ := delivery.IsTemporary(err); !temp || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v, want temporary", err)
	}
}

func TestInvalidRequestsArePermanent(t *testing.T) {
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{})
	for name, mod := range map[string]func(*delivery.Request){
		"no secret":            func(r *delivery.Request) { r.Method.Secret = "" },
		"bad secret":           func(r *delivery.Request) { r.Method.Secret = "whsec_***" },
		"dot in ID":            func(r *delivery.Request) { r.DeliveryID = "a.b" },
		"no ID":                func(r *delivery.Request) { r.DeliveryID = "" },
		"http to a name":       func(r *delivery.Request) { r.Address = "http://hooks.example.org/" },
		"not a URL":            func(r *delivery.Request) { r.Address = "hooks" },
		"with credentials":     func(r *delivery.Request) { r.Address = "https://u:p@hooks.example.org/" },
		"without notification": func(r *delivery.Request) { r.Notification = nil },
	} {
		req := testRequest(rc.URL)
		mod(req)
		_, err := ch.Send(context.Background(), req)
		if temp, _ := delivery.IsTemporary(err); err == nil || temp {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
	// Plain http to loopback needs allow_private.
	strict := New(config.Webhook{Timeout: time.Second})
	defer strict.Close()
	if _, err := strict.Send(context.Background(), testRequest(rc.URL)); err == nil {
		t.Error("http://127.0.0.1 accepted without allow_private")
	}
}

func TestRateLimit(t *testing.T) {
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{RateLimit: 20, Burst: 1})
	start := time.Now()
	for range 4 {
		if _, err := ch.Send(context.Background(), testRequest(rc.URL)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("4 requests at 20/s with burst 1 took %s, want ≥ 150ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ch.Send(ctx, testRequest(rc.URL)); err == nil {
		t.Error("sent with a cancelled context")
	} else if temp, _ := delivery.IsTemporary(err); !temp {
		t.Errorf("a rate limit wait cut short is not temporary: %v", err)
	}
}

func TestFromConfig(t *testing.T) {
	f := FromConfig
	ch, err := f(config.Default(), nil)
	if err != nil || ch == nil {
		t.Fatalf("factory with the default configuration: %v, %v (the webhook channel is always available)", ch, err)
	}
	c := ch.(*Channel)
	defer c.Close()
	if c.timeout != 10*time.Second || c.private || c.limiter != nil {
		t.Errorf("defaults: timeout %s, allow_private %v, limiter %v", c.timeout, c.private, c.limiter)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"  a \n\n b  ":      "a b",
		"a\x00b":            "a b",
		"a\u202eb\u200bc":   "abc",
		"\xffok":            "\uFFFDok",
		"abcdefghij":        "abcdefghij",
		"abcdefghijk":       "abcdefghij…",
		"abcde fghij klmno": "abcde fghi…",
	} {
		if got := clean(in, 10); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "7": 7 * time.Second, " 7 ": 7 * time.Second, "-3": 0, "1.5": 0, "x": 0,
		"3601":                          time.Hour,
		"18446744073709551615":          time.Hour,
		"Sat, 01 Mar 2025 12:00:45 GMT": 45 * time.Second,
		"Sat, 01 Mar 2025 11:00:00 GMT": 0,
		"Sun, 02 Mar 2025 12:00:00 GMT": time.Hour,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestSendSignsWithPreviousSecretDuringGrace checks the rotation grace
// period: until PreviousSecretExpires a request carries a second
// signature, made with the previous secret, so receivers still configured
// with it accept the request; afterwards only the current secret signs.
func TestSendSignsWithPreviousSecretDuringGrace(t *testing.T) {
	const previous = "whsec_u6iX8/+XbWcSNl9o/gXqB0Ck0yXzDGfNx8tFfDWWnXs="
	rc := newReceiver(t, false, nil)
	ch := newTestChannel(t, rc, config.Webhook{})
	now := time.Now()
	ch.now = func() time.Time { return now }
	for _, tc := range []struct {
		name       string
		expires    time.Time
		signatures int
	}{
		{"within the grace period", now.Add(time.Second), 2},
		{"once it ended", now, 1},
	} {
		req := testRequest(rc.URL)
		req.Method.PreviousSecret, req.Method.PreviousSecretExpires = previous, tc.expires
		if _, err := ch.Send(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		got := rc.requests()
		r := got[len(got)-1]
		sigs := strings.Fields(r.header.Get("webhook-signature"))
		if len(sigs) != tc.signatures {
			t.Errorf("%s: webhook-signature %q, want %d signatures", tc.name, sigs, tc.signatures)
		}
		if err := verifyStandardWebhook(specSecret, r.header, r.body, now); err != nil {
			t.Errorf("%s: the current secret does not verify: %v", tc.name, err)
		}
		err := verifyStandardWebhook(previous, r.header, r.body, now)
		if tc.signatures == 2 && err != nil {
			t.Errorf("%s: the previous secret does not verify: %v", tc.name, err)
		}
		if tc.signatures == 1 && err == nil {
			t.Errorf("%s: the previous secret still verifies", tc.name)
		}
		if len(sigs) > 0 && sigs[0] != sign(mustKey(t, specSecret), testDeliveryID, now.Unix(), r.body) {
			t.Errorf("%s: the first signature is not the current secret's", tc.name)
		}
	}
}

func mustKey(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
