package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// Wilma's email address is suppressed through the API (spelled in
// capitals): a calendar change published for her sends no email; the
// delivery log shows the email delivery as suppressed, with why, and her
// subscription's channel order (email, then SMS) sends the SMS instead,
// through Twilio's contract (Prism). Taken off the list, the address gets
// the next change by email again.
func TestSuppressedAddressFallsBackToSMS(t *testing.T) {
	sink := peertest.StartSMTP(t)
	prism := peertest.StartPrism(t)
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	nd := newInstanceWith(t, fmt.Sprintf(`systems:
  ens:
    caldav_url: http://127.0.0.1:1/
    tokens: [%s]
channels:
  smtp:
    host: %s
    port: %d
    tls: starttls
    ca_file: %s
    from: "Calendar <notifyd@localhost>"
    timeout: 5s
  twilio:
    account_sid: %s
    auth_token: %s
    from: "%s"
    base_url: %s
    timeout: 5s
reminders:
  enabled: false
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, pingToken, sink.Host, sink.Port, ca, smsAccountSID, smsAuthToken, smsFrom, prism.URL))
	nd.start()
	w := &publishWorld{nd: nd, sink: sink}
	code, body := nd.api(t, http.MethodPost, "/v1/subscriptions", map[string]any{"system": "ens", "principal": wilmaPrincipal,
		"time_zone": "Europe/Paris", "methods": []map[string]any{{"channel": "email", "address": wilmaEmail}, {"channel": "sms", "address": smsTo}},
		"preferences": map[string]any{"channel_order": []string{"email", "sms"}}})
	if code != http.StatusCreated {
		t.Fatalf("subscribe wilma: %d %v", code, body)
	}
	if code, body := nd.api(t, http.MethodPost, "/v1/suppressions", map[string]any{"channel": "email",
		"address": strings.ToUpper(wilmaEmail), "detail": "asked for no email"}); code != http.StatusCreated {
		t.Fatalf("suppress: %d %v", code, body)
	}
	change := func(uid string) {
		t.Helper()
		if code, body := w.publish(t, map[string]any{"topic": "event-create", "principal": wilmaPrincipal,
			"calid": "/calendars/wilma/work/", "triggered_by": "/principals/users/fred", "content_type": "text/calendar",
			"payload": alarmICS(uid, "Planning "+uid)}); code != http.StatusAccepted {
			t.Fatalf("event-create: %d %v", code, body)
		}
	}
	context := func() string { return fmt.Sprintf("\nnotifyd log:\n%s\nPrism log:\n%s", nd.log, prism.Log()) }

	change("p1")
	ds := waitFinal(t, time.Minute, 2, func() []map[string]any { return w.deliveries(t) }, context)
	for _, d := range ds {
		switch d["channel"] {
		case "email":
			if d["status"] != "suppressed" || !strings.Contains(fmt.Sprint(d["last_error"]), "address suppressed: added by an operator") ||
				!strings.Contains(fmt.Sprint(d["last_error"]), "asked for no email") {
				t.Errorf("email delivery %v, want suppressed with why", d)
			}
		case "sms":
			if d["status"] != "sent" || d["address"] != smsTo {
				t.Errorf("sms delivery %v, want sent", d)
			}
		}
	}
	if !strings.Contains(prism.Log(), "/2010-04-01/Accounts/"+smsAccountSID+"/Messages.json") {
		t.Errorf("Prism got no message%s", context())
	}
	waitIdle(t, nd, time.Minute)
	if n := len(sink.Messages(t)); n != 0 {
		t.Fatalf("%d emails to a suppressed address", n)
	}

	code, body = nd.api(t, http.MethodGet, "/v1/suppressions?channel=email&address_prefix="+url.QueryEscape("WILMA@"), nil)
	if items, _ := body["items"].([]any); code != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["address"] != wilmaEmail {
		t.Fatalf("GET /v1/suppressions: %d %v", code, body)
	}
	if code, body := nd.api(t, http.MethodDelete, "/v1/suppressions/email/"+wilmaEmail, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", code, body)
	}
	change("p2")
	msgs := sink.Await(t, time.Minute, "the email once no longer suppressed", func(m []peertest.ReceivedMessage) bool { return len(m) >= 1 })
	if msgs[0].RcptTo[0] != wilmaEmail || !strings.Contains(mailSubject(msgs[0]), "p2") {
		t.Errorf("email to %v, subject %q", msgs[0].RcptTo, mailSubject(msgs[0]))
	}
}
