package email_test

import (
	"context"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery/email"
)

// A return path that could smuggle SMTP syntax into MAIL FROM is refused
// before anything is sent (the server here does not exist).
func TestReturnPathMustBePlainAddress(t *testing.T) {
	s, err := email.NewSender(config.SMTP{Host: "127.0.0.1", Port: 1, TLS: config.TLSNone, From: "notifyd@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, rp := range []string{"a b@example.org", "a@example.org> SIZE=1", "a@example.org\r\nRCPT TO:<x@y>", "no-at-sign", "a@b@c"} {
		m := &email.Message{To: "wilma@example.org", Subject: "s", Text: "t", ReturnPath: rp}
		err := s.Send(context.Background(), []*email.Message{m})[0]
		if err == nil || email.IsTemporary(err) || !strings.Contains(err.Error(), "return path") {
			t.Errorf("return path %q: %v, want a permanent return-path error", rp, err)
		}
	}
}
