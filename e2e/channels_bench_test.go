package e2e

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/delivery"
	"github.com/notifyd/notifyd/delivery/email"
	"github.com/notifyd/notifyd/delivery/im"
	"github.com/notifyd/notifyd/delivery/sms"
	"github.com/notifyd/notifyd/delivery/webhook"
	"github.com/notifyd/notifyd/internal/peertest"
	"github.com/notifyd/notifyd/subscriptions"
)

// benchRequest is a sharing invite to deliver.
func benchRequest(i int, address string, method notifyd.DeliveryMethod) *delivery.Request {
	return &delivery.Request{
		DeliveryID: fmt.Sprintf("bench%08d", i), System: "cal", Principal: "/dav/principals/user/wilma/", Address: address,
		Locale: "en", TimeZone: time.UTC, CalendarName: "Work", Method: method,
		UnsubscribeURL: "http://127.0.0.1:8080/v1/unsubscribe/x",
		Notification: &notifyd.Notification{Type: notifyd.TypeShareInvite, UID: "n1", Access: "read-write",
			From:     notifyd.Person{Href: "/dav/principals/user/fred/", CommonName: "Fred Flintstone"},
			Calendar: notifyd.Collection{Href: "/dav/calendars/user/fred/Work/"}},
	}
}

// benchChannels are the channels, each against its local peer.
func benchChannels(b *testing.B, rate float64) map[string]func(int) (delivery.Channel, *delivery.Request) {
	emailChannel := func(dkimAlgo string) func(int) (delivery.Channel, *delivery.Request) {
		return func(int) (delivery.Channel, *delivery.Request) {
			sink := peertest.StartSMTP(b)
			cfg := config.SMTP{Host: sink.Host, Port: sink.Port, TLS: config.TLSStartTLS,
				From: "notifyd@localhost", Timeout: 10 * time.Second, RateLimit: rate, Burst: 1}
			if dkimAlgo != "" {
				key, _ := dkimTestKey(b, dkimAlgo)
				cfg.DKIM = config.DKIM{KeyFile: key, Selector: "nd", Algorithm: dkimAlgo}
			}
			ch, err := email.NewChannel(cfg, "", email.WithRootCAs(sink.CertPool()))
			if err != nil {
				b.Fatal(err)
			}
			return ch, benchRequest(0, "wilma@example.org", notifyd.DeliveryMethod{Channel: notifyd.ChannelEmail})
		}
	}
	return map[string]func(int) (delivery.Channel, *delivery.Request){
		"email":              emailChannel(""),
		"email-dkim-rsa":     emailChannel(config.DKIMRSA),
		"email-dkim-ed25519": emailChannel(config.DKIMEd25519),
		"sms": func(int) (delivery.Channel, *delivery.Request) {
			prism := peertest.StartPrism(b)
			ch, err := sms.NewChannel(config.Twilio{AccountSID: smsAccountSID, AuthToken: smsAuthToken, From: smsFrom,
				BaseURL: prism.URL, Timeout: 10 * time.Second, MaxSegments: 3, RateLimit: rate, Burst: 1},
				"http://127.0.0.1:8080/v1/callbacks/twilio")
			if err != nil {
				b.Fatal(err)
			}
			return ch, benchRequest(0, "+14155550100", notifyd.DeliveryMethod{Channel: notifyd.ChannelSMS})
		},
		"im": func(int) (delivery.Channel, *delivery.Request) {
			p := peertest.StartProsody(b, "notifyd", "wilma")
			wilma := p.Login(b, "wilma")
			ch, err := im.NewChannel(config.XMPP{JID: p.JID("notifyd"), Password: config.Secret(p.Password("notifyd")),
				Server: p.Addr, TLS: config.TLSStartTLS, RateLimit: rate, Burst: 1}, nil, im.WithRootCAs(p.CertPool()))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { ch.Close() })
			ch.WatchAddresses(func(context.Context) ([]string, error) { return []string{p.JID("wilma")}, nil })
			wilma.WaitMutual(b, p.JID("notifyd"), 10*time.Second)
			return ch, benchRequest(0, p.JID("wilma"), notifyd.DeliveryMethod{Channel: notifyd.ChannelIM, Presence: notifyd.PresenceStore})
		},
		"webhook": func(int) (delivery.Channel, *delivery.Request) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			b.Cleanup(srv.Close)
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			ch := webhook.New(config.Webhook{Timeout: 10 * time.Second, AllowPrivate: true, RateLimit: rate, Burst: 1},
				webhook.WithRootCAs(pool))
			return ch, benchRequest(0, srv.URL+"/hook", notifyd.DeliveryMethod{Channel: notifyd.ChannelWebhook,
				Secret: subscriptions.NewWebhookSecret()})
		},
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// send delivers n copies of req through ch from workers goroutines and
// returns the wall time and notifyd's CPU time (this process's).
func send(b *testing.B, ch delivery.Channel, req *delivery.Request, n, workers int) (wall, cpu time.Duration) {
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	var firstErr error
	cpu0, start := cpuTime(), time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := *req
				r.DeliveryID = fmt.Sprintf("bench%08d", i)
				if _, err := ch.Send(context.Background(), &r); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("send: %v", firstErr)
	}
	return time.Since(start), cpuTime() - cpu0
}

// BenchmarkChannelCost is the CPU notifyd spends per message on each
// channel (rendering, signing, the protocol exchange) against the local
// peers: cpu-µs/msg is this process's CPU per message (the peers run in
// their own processes).
//
//	go test -run XXX -bench ChannelCost -benchtime 500x ./e2e/
func BenchmarkChannelCost(b *testing.B) {
	for name, setup := range benchChannels(b, 0) {
		b.Run(name, func(b *testing.B) {
			ch, req := setup(0)
			send(b, ch, req, 20, 4) // warm up: connections, templates
			b.ResetTimer()
			wall, cpu := send(b, ch, req, b.N, 8)
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
			b.ReportMetric(float64(b.N)/wall.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkChannelRateLimit sends through each channel with a rate limit
// of 100 messages/s and reports the rate reached: the limiter, not
// notifyd, is the bottleneck when it is close to 100.
//
//	go test -run XXX -bench ChannelRateLimit -benchtime 1x ./e2e/
func BenchmarkChannelRateLimit(b *testing.B) {
	const limit, n = 100.0, 300
	for name, setup := range benchChannels(b, limit) {
		b.Run(name, func(b *testing.B) {
			ch, req := setup(0)
			for i := 0; i < b.N; i++ {
				wall, _ := send(b, ch, req, n, 16)
				b.ReportMetric(float64(n)/wall.Seconds(), "msgs/s")
				b.ReportMetric(float64(n)/wall.Seconds()/limit*100, "%-of-limit")
			}
		})
	}
}
