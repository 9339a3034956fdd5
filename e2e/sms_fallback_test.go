package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The fallback Twilio account of TestSMSFallbackAccount.
const (
	smsBackupSID   = "ACfedcba9876543210fedcba9876543210"
	smsBackupToken = "fedcba9876543210fedcba9876543210"
	smsBackupFrom  = "+15005550007"
)

// TestSMSFallbackAccount configures a primary Twilio account nobody
// answers for and a fallback account at Prism (serving Twilio's OpenAPI
// document): the SMS goes through the fallback, once, with its
// credentials; its status callback, signed with the fallback's token, is
// accepted; the metrics count it for the fallback account.
func TestSMSFallbackAccount(t *testing.T) {
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
    base_url: http://%s
    timeout: 5s
    fallback_accounts:
      - name: backup
        account_sid: %s
        auth_token: %s
        from: "%s"
        base_url: %s
jobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
`, cy.BaseURL, pingToken, smsAccountSID, smsAuthToken, smsFrom, freeAddr(t),
		smsBackupSID, smsBackupToken, smsBackupFrom, prism.URL))
	nd.start()
	if strings.Contains(nd.log.String(), smsBackupToken) || strings.Contains(nd.log.String(), smsAuthToken) {
		t.Fatalf("a Twilio auth token is in the log:\n%s", nd.log)
	}
	callbackURL := nd.baseURL + "/v1/callbacks/twilio"

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
	if len(ds) != 1 || ds[0]["status"] != "sent" || ds[0]["address"] != smsTo {
		t.Fatalf("deliveries %v\nnotifyd log:\n%s\nPrism log:\n%s", ds, nd.log, prism.Log())
	}
	if n := strings.Count(prism.Log(), "/2010-04-01/Accounts/"+smsBackupSID+"/Messages.json"); n != 1 {
		t.Errorf("Prism got %d messages for the fallback account, want 1:\n%s", n, prism.Log())
	}
	if !strings.Contains(nd.log.String(), "Twilio account down") {
		t.Errorf("notifyd did not log the primary account down:\n%s", nd.log)
	}

	id, sid := ds[0]["id"].(string), ds[0]["provider_id"].(string)
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"},
		"AccountSid": {smsBackupSID}, "From": {smsBackupFrom}, "To": {smsTo}, "ApiVersion": {"2010-04-01"}}
	if code, body := smsCallback(t, nd, form, smsSign(smsBackupToken, callbackURL, form)); code != http.StatusOK {
		t.Fatalf("callback signed by the fallback account: %d %s\n%s", code, body, nd.log)
	}
	for _, d := range smsDeliveries(t, nd, cy, "wilma") {
		if d["id"] == id && d["status"] != "delivered" {
			t.Errorf("after the fallback account's callback: %v", d)
		}
	}

	resp, err = http.Get(nd.baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`notifyd_sms_account_accepted_total{account="backup"} 1`,
		`notifyd_sms_account_accepted_total{account="primary"} 0`,
		`notifyd_sms_account_failovers_total{account="primary"} 1`,
		`notifyd_sms_account_cooling_down{account="primary"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
