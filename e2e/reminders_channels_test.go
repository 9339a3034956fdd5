package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// One alarm of a Cyrus event rings once on every channel of fred's
// subscription: an SMS through Prism (Twilio's API document, behind a
// proxy that records when each request arrives), an IM
// pop-up through Prosody, a signed webhook and an email. Each arrives
// once; how late each arrived is logged (the target is under a second;
// only a sanity bound is asserted).
func TestReminderEveryChannel(t *testing.T) {
	prism := peertest.StartPrism(t)
	twilio := peertest.StartFaultProxy(t, prism.URL) // no faults: it records
	pr := peertest.StartProsody(t, "notifyd", reminderUser)
	rc := startWebhookReceiver(t)
	const hook = "/hooks/fred"
	w := newReminderWorld(t, reminderSetup{
		channels: fmt.Sprintf(`  twilio:
    account_sid: %s
    auth_token: %s
    from: "%s"
    base_url: %s
    timeout: 5s
  xmpp:
    jid: %s
    password: %s
    server: %s
    tls: starttls
    ca_file: %s
  webhook:
    allow_private: true
    timeout: 5s
`, smsAccountSID, smsAuthToken, smsFrom, twilio.URL, pr.JID("notifyd"), pr.Password("notifyd"), pr.Addr, pr.CertFile()),
		// notifyd trusts the webhook receiver's certificate.
		env: []string{"SSL_CERT_FILE=" + rc.caFile},
		methods: []map[string]any{
			{"channel": "email", "address": "fred@example.org"},
			{"channel": "sms", "address": smsTo},
			// store: the pop-up goes to fred whether or not notifyd
			// has seen his presence yet (online_only is TestIMDelivery's).
			{"channel": "im", "address": pr.JID(reminderUser), "presence": "store"},
			{"channel": "webhook", "address": rc.url(hook)},
		},
	})
	methods, _ := w.sub["methods"].([]any)
	for _, m := range methods {
		if m := m.(map[string]any); m["channel"] == "webhook" {
			rc.setSecret(hook, fmt.Sprint(m["secret"]))
		}
	}
	fred := pr.Login(t, reminderUser)

	trigger := time.Now().Add(8 * time.Second).Truncate(time.Second)
	start := trigger.Add(15 * time.Minute)
	w.putEvent(t, "budget", "Budget review", start)
	w.ping(t)

	// Each channel's arrival, as its peer saw it.
	mail := w.sink.WaitMessages(t, 1, time.Minute)[0]
	pop := fred.WaitMessages(t, 1, time.Minute)[0]
	var hit webhookHit
	waitFor(t, time.Minute, "the webhook reminder", func() bool {
		hits := rc.hitsFor(hook)
		if len(hits) > 0 {
			hit = hits[0]
		}
		return len(hits) > 0
	})
	rs := w.waitSettled(t, trigger.Add(time.Second))
	ds := reminderDeliveries(t, w)

	// Once each: nothing more once notifyd has nothing left to do.
	fred.Sync(t, time.Minute) // a second pop-up in flight would be here now
	if n := len(w.sink.Messages(t)); n != 1 {
		t.Errorf("%d emails, want 1", n)
	}
	if n := len(fred.Messages()); n != 1 {
		t.Errorf("%d pop-ups, want 1: %+v", n, fred.Messages())
	}
	if n := len(rc.hitsFor(hook)); n != 1 {
		t.Errorf("%d webhook requests, want 1", n)
	}
	var sms []peertest.Exchange
	for _, x := range twilio.Exchanges() {
		if x.Method == http.MethodPost && strings.HasSuffix(x.Path, "/Accounts/"+smsAccountSID+"/Messages.json") {
			sms = append(sms, x)
		}
	}
	if len(sms) != 1 || sms[0].Status != http.StatusCreated {
		t.Fatalf("%d SMS sent to Twilio's API, want 1 accepted: %+v\nPrism log:\n%s", len(sms), sms, tail(prism.Log(), 20))
	}
	if len(rs) != 1 || rs[0]["state"] != "fired" {
		t.Fatalf("reminders, want one fired:\n%s", showReminders(rs))
	}
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want one per channel: %v", len(ds), ds)
	}
	for _, d := range ds {
		if d["status"] != "sent" {
			t.Errorf("%s delivery %v, want sent", d["channel"], d)
		}
	}

	// What each says.
	if s := mailSubject(mail); !strings.HasPrefix(s, "Reminder: Budget review") || !strings.Contains(mail.Text, "Room 4") {
		t.Errorf("email: subject %q, text:\n%s", s, mail.Text)
	}
	if !strings.Contains(pop.Body, "Budget review") || !strings.Contains(pop.Body, "Room 4") || pop.Delayed {
		t.Errorf("pop-up %+v, want the summary and the place, not kept offline", pop)
	}
	if cal, ok := pop.Element("urn:notifyd:calendar:0"); !ok || !strings.Contains(cal.Text, "UID:budget") {
		t.Errorf("pop-up without the event as text/calendar: %+v", pop.Elements)
	}
	if hit.verified != nil {
		t.Errorf("webhook signature: %v", hit.verified)
	}
	p := decodeReminder(t, hit.body)
	if rem := p.Data.Notification.Reminder; p.Type != "notification.reminder" || p.Data.System != "cyrus" ||
		p.Data.Principal != w.principal() || rem.UID != "budget" || rem.Component != "event" || !rem.Trigger.Equal(trigger) {
		t.Errorf("webhook body:\n%s", hit.body)
	}
	if body := sms[0].Form.Get("Body"); !strings.Contains(body, "Budget review") || sms[0].Form.Get("To") != smsTo {
		t.Errorf("SMS to %q: %q, want the event named", sms[0].Form.Get("To"), body)
	}

	t.Logf("handed to the channels %v after the trigger", handedOff(t, rs[0]).Round(time.Millisecond))
	checkLate(t, "email (stored by the SMTP sink)", trigger, mailArrival(t, mail))
	checkLate(t, "IM pop-up (received by fred's client)", trigger, pop.Received)
	checkLate(t, "webhook (received by the receiver)", trigger, hit.at)
	checkLate(t, "SMS (request to Twilio's API)", trigger, sms[0].At)
}

// reminderDeliveries lists fred's deliveries (GET /v1/deliveries).
func reminderDeliveries(t *testing.T, w *reminderWorld) []map[string]any {
	t.Helper()
	q := url.Values{"system": {w.system}, "principal": {w.principal()}}
	code, body := w.nd.api(t, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil)
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
