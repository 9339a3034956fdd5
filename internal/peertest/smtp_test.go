package peertest

import (
	"crypto/tls"
	"net/smtp"
	"testing"
	"time"
)

// TestSMTPHoldsReplies: with HoldReplies, the sink stores the message at
// once but the sender hears 250 only once the hold is lifted, which lets
// a test act in the instant between a provider's acceptance and the
// sender's knowing it.
func TestSMTPHoldsReplies(t *testing.T) {
	sink := StartSMTP(t)
	sink.SetRules(t, Rules{HoldReplies: true})
	sent := make(chan error, 1)
	go func() {
		c, err := smtp.Dial(sink.Addr)
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		if err := c.StartTLS(&tls.Config{ServerName: sink.Host, RootCAs: sink.CertPool()}); err != nil {
			sent <- err
			return
		}
		sent <- send(c)
	}()
	sink.WaitHeld(t, 1, time.Minute)
	if msgs := sink.Messages(t); len(msgs) != 1 || msgs[0].Header.Get("Subject") != "held" {
		t.Fatalf("while its reply is held the sink stores %d messages; want the one sent", len(msgs))
	}
	select {
	case err := <-sent:
		t.Fatalf("the sender heard back while the reply was held: %v", err)
	default:
	}
	sink.SetRules(t, Rules{})
	if err := <-sent; err != nil {
		t.Fatalf("sending once the hold is lifted: %v", err)
	}
}

// send sends one message on c.
func send(c *smtp.Client) error {
	if err := c.Mail("a@example.org"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.org"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: held\r\n\r\nhello\r\n")); err != nil {
		return err
	}
	return w.Close()
}
