package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

// emailConfig is the configuration of a notifyd that reads srv as system
// and sends email to sink, with quick job retries: systemExtra is added
// to the system's section, channelsExtra to the channels (other than
// smtp), and rest after the jobs section (reminders:, updates: ...).
func emailConfig(t testing.TB, srv peertest.CalDAVServer, system string, sink *peertest.SMTP, systemExtra, channelsExtra, rest string) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, sinkCertPEM(t, sink), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`systems:
  %s:
    caldav_url: %s/
    tokens: [%s]
%s    username: %s
    password: %s
    timeout: 5s
channels:
  smtp:
    host: %s
    port: %d
    ca_file: %s
    from: notifyd@localhost
    timeout: 5s
%sjobs:
  poll_interval: 50ms
  retry_base: 200ms
  retry_max: 1s
%s`, system, srv.URL(), pingToken, systemExtra, srv.ServiceAccount(), srv.Password(srv.ServiceAccount()),
		sink.Host, sink.Port, ca, channelsExtra, rest)
}
