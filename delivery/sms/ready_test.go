package sms_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/sms"
)

// "sms channel ready" names the API base URL without the user info and
// query values channels.twilio.base_url may carry.
func TestReadyLogRedactsTheBaseURL(t *testing.T) {
	f := sms.FromConfig
	cfg := config.Default()
	cfg.Channels.Twilio = twilioConfig("https://twuser-secret:twpw-secret@mock.example.org/twilio?token=twq-secret")
	var buf bytes.Buffer
	if _, err := f(cfg, slog.New(slog.NewJSONHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"msg":"sms channel ready"`) ||
		!strings.Contains(out, `"api":"https://[redacted]@mock.example.org/twilio?token=[redacted]"`) {
		t.Errorf("ready line = %s", out)
	}
	if strings.Contains(out, "secret") {
		t.Errorf("the log reveals a secret: %s", out)
	}
}
