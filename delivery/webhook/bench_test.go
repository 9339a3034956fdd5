package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/notifyd/notifyd/config"
)

// BenchmarkSend renders, signs and POSTs a share invite to a local
// receiver answering 204, over plain http to 127.0.0.1 and over https
// (connections are kept alive between requests, as in production).
func BenchmarkSend(b *testing.B) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[useTLS]
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			if useTLS {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			rc := &receiver{Server: srv}
			ch := newTestChannel(b, rc, config.Webhook{})
			req := testRequest(rc.URL + "/hook")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ch.Send(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderSign is the CPU part of Send: the JSON body and its
// signature.
func BenchmarkRenderSign(b *testing.B) {
	req := testRequest("https://hooks.example.org/")
	key, _ := DecodeSecret(specSecret)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, err := Render(req, now)
		if err != nil {
			b.Fatal(err)
		}
		_ = sign(key, req.DeliveryID, now.Unix(), body)
	}
}
