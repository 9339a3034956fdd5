package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// The e2e tests in this file start notifyd with a distinct random secret
// in every secret-bearing setting, set in every way the configuration
// allows (a value in the YAML file, a *_file named there, an environment
// variable, a *_FILE variable, a URL's user info and its query), and
// check that no secret appears anywhere in what notifyd prints at debug
// level: the startup summary, the channels' "ready" lines, the error of
// a failed start, the problems of a refused configuration.

// secretKey is a Secret setting of the configuration.
type secretKey struct {
	path string // YAML key path, e.g. channels.smtp.password
	env  string // environment variable, e.g. NOTIFYD_CHANNELS_SMTP_PASSWORD
	list bool   // a list of secrets (api_keys, tokens)
}

var secretKeys = []secretKey{
	{"api_keys", "NOTIFYD_API_KEYS", true},
	{"systems.basic.tokens", "NOTIFYD_SYSTEMS_BASIC_TOKENS", true},
	{"systems.basic.password", "NOTIFYD_SYSTEMS_BASIC_PASSWORD", false},
	{"systems.bearer.tokens", "NOTIFYD_SYSTEMS_BEARER_TOKENS", true},
	{"systems.bearer.bearer_token", "NOTIFYD_SYSTEMS_BEARER_BEARER_TOKEN", false},
	{"channels.smtp.password", "NOTIFYD_CHANNELS_SMTP_PASSWORD", false},
	{"channels.twilio.auth_token", "NOTIFYD_CHANNELS_TWILIO_AUTH_TOKEN", false},
	{"channels.xmpp.password", "NOTIFYD_CHANNELS_XMPP_PASSWORD", false},
}

// secretSet is the configuration of one notifyd run and the secrets in it.
type secretSet struct {
	t       *testing.T
	dir     string
	tree    map[string]any // the YAML file, written as JSON (YAML is a superset)
	env     []string
	secrets []string
	// inUse maps a secret key's path to the value notifyd uses.
	inUse map[string]string
}

// newSecret returns a new random secret naming what it is for: letters and
// digits only, as a Twilio auth token must be.
func (s *secretSet) newSecret(what string) string {
	b := make([]byte, 12)
	rand.Read(b)
	v := "Sekrit" + strings.NewReplacer(".", "", "_", "").Replace(what) + hex.EncodeToString(b)
	s.secrets = append(s.secrets, v)
	return v
}

// set puts value at the dotted path of the YAML tree.
func (s *secretSet) set(path string, value any) {
	m := s.tree
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = value
}

// secretFile writes v to a new file and returns its path.
func (s *secretSet) secretFile(v string) string {
	f, err := os.CreateTemp(s.dir, "secret-*")
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(v + "\n"); err != nil {
		s.t.Fatal(err)
	}
	return f.Name()
}

// newSecretSet returns the configuration of a notifyd on a free port with
// two systems (basic and bearer auth) and all channels configured, their
// peers unreachable, logging at debug level in format ("json" or
// "text"); every Secret setting is set the way way says: "yaml" (the
// value in the file), "yaml_file" (x_file in the file), "env" or
// "env_file". With "env" and "env_file", the file holds other secrets
// too, which the environment overrides.
func newSecretSet(t *testing.T, way, format string) (*secretSet, string) {
	s := &secretSet{t: t, dir: t.TempDir(), tree: map[string]any{}, inUse: map[string]string{}}
	addr := freeAddr(t)
	closed := freeAddr(t)
	s.set("http.addr", addr)
	s.set("http.shutdown_timeout", "5s")
	s.set("database.data_dir", filepath.Join(s.dir, "data"))
	s.set("log.level", "debug")
	s.set("log.format", format)
	for _, name := range []string{"basic", "bearer"} {
		s.set("systems."+name+".caldav_url", "http://"+closed+"/dav/")
	}
	s.set("systems.basic.username", "svc")
	host, port, _ := strings.Cut(closed, ":")
	s.set("channels.smtp.host", host)
	s.set("channels.smtp.port", json.Number(port))
	s.set("channels.smtp.username", "notifyd")
	s.set("channels.smtp.from", "notifyd@localhost")
	s.set("channels.twilio.account_sid", smsAccountSID)
	s.set("channels.twilio.from", smsFrom)
	s.set("channels.xmpp.jid", "notifyd@localhost")
	s.set("channels.xmpp.server", closed)

	for _, k := range secretKeys {
		v := s.newSecret(k.path)
		s.inUse[k.path] = v
		var yamlValue any = v
		if k.list {
			yamlValue = []string{v}
		}
		switch way {
		case "yaml":
			s.set(k.path, yamlValue)
		case "yaml_file":
			s.set(k.path+"_file", s.secretFile(v))
		case "env", "env_file":
			// The file's value, overridden, must not show either.
			if k.list {
				s.set(k.path, []string{s.newSecret(k.path + "overridden")})
			} else {
				s.set(k.path, s.newSecret(k.path+"overridden"))
			}
			if way == "env" {
				s.env = append(s.env, k.env+"="+v)
			} else {
				s.env = append(s.env, k.env+"_FILE="+s.secretFile(v))
			}
		default:
			t.Fatalf("unknown way %q", way)
		}
	}
	// channels.twilio.base_url with user info and query; it points at a
	// closed port (no SMS is sent).
	twilioURL := fmt.Sprintf("http://%s:%s@%s/twilio?token=%s&region=%s",
		s.newSecret("twuser"), s.newSecret("twpassword"), closed, s.newSecret("twtoken"), s.newSecret("twregion"))
	if strings.HasPrefix(way, "env") {
		s.set("channels.twilio.base_url", "http://"+s.newSecret("twoverridden")+"@"+closed+"/")
		s.env = append(s.env, "NOTIFYD_CHANNELS_TWILIO_BASE_URL="+twilioURL)
	} else {
		s.set("channels.twilio.base_url", twilioURL)
	}
	s.setFallbackAccount(way, closed)
	return s, "http://" + addr
}

// setFallbackAccount sets channels.twilio.fallback_accounts, the way
// says, to one account whose auth token and base_url (user info and
// query) are secrets; it points at closed.
func (s *secretSet) setFallbackAccount(way, closed string) {
	token := s.newSecret("fallbacktoken")
	account := map[string]any{"name": "backup", "account_sid": smsBackupSID, "from": smsBackupFrom,
		"base_url": fmt.Sprintf("http://%s:%s@%s/?token=%s", s.newSecret("fbuser"), s.newSecret("fbpassword"), closed, s.newSecret("fbquery"))}
	if strings.HasSuffix(way, "_file") {
		account["auth_token_file"] = s.secretFile(token)
	} else {
		account["auth_token"] = token
	}
	list := []any{account}
	if strings.HasPrefix(way, "env") {
		b, err := json.Marshal(list)
		if err != nil {
			s.t.Fatal(err)
		}
		s.set("channels.twilio.fallback_accounts", []any{map[string]any{"account_sid": smsBackupSID, "from": smsBackupFrom,
			"auth_token": s.newSecret("fallbackoverridden")}})
		s.env = append(s.env, "NOTIFYD_CHANNELS_TWILIO_FALLBACK_ACCOUNTS="+string(b))
	} else {
		s.set("channels.twilio.fallback_accounts", list)
	}
}

// setDatabaseURL sets database.url, the way says, to pgURL (a
// postgres://user@host:port/db?… URL) with a password in its user info
// and another in its query.
func (s *secretSet) setDatabaseURL(way, pgURL string) {
	u := strings.Replace(pgURL, "@", ":"+s.newSecret("dbuserinfo")+"@", 1)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	u += sep + "password=" + s.newSecret("dbquery") + "&sslpassword=" + s.newSecret("dbsslpassword")
	if strings.HasPrefix(way, "env") {
		s.set("database.url", strings.Replace(pgURL, "@", ":"+s.newSecret("dboverridden")+"@", 1))
		s.env = append(s.env, "NOTIFYD_DATABASE_URL="+u)
	} else {
		s.set("database.url", u)
	}
}

// write writes the configuration file and returns its path.
func (s *secretSet) write() string {
	b, err := json.MarshalIndent(s.tree, "", "  ")
	if err != nil {
		s.t.Fatal(err)
	}
	path := filepath.Join(s.dir, "notifyd.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// assertNoSecret fails the test if out contains any of the secrets.
func (s *secretSet) assertNoSecret(what, out string) {
	s.t.Helper()
	var leaked []string
	for _, v := range s.secrets {
		if strings.Contains(out, v) {
			leaked = append(leaked, v)
		}
	}
	if len(leaked) > 0 {
		s.t.Errorf("%s reveals %d secrets: %s\n%s", what, len(leaked), strings.Join(leaked, ", "), out)
	}
}

// TestSecretsNeverPrinted runs notifyd serve until ready, calls its API
// and ping endpoint with the configured key and token, stops it with
// SIGTERM, and runs notifyd migrate, with the secrets set each way;
// nothing it prints contains a secret.
func TestSecretsNeverPrinted(t *testing.T) {
	pg := peertest.StartPostgres(t)
	for _, tc := range []struct{ way, format string }{
		{"yaml", "json"}, {"yaml_file", "text"}, {"env", "text"}, {"env_file", "json"},
	} {
		t.Run(tc.way, func(t *testing.T) {
			s, base := newSecretSet(t, tc.way, tc.format)
			s.setDatabaseURL(tc.way, pg.Database(t))
			in := &instance{t: t, dir: s.dir, config: s.write(), baseURL: base, env: s.env}
			in.start()
			for _, want := range []string{"starting notifyd", "sms channel ready", "sms fallback account", "[redacted]"} {
				if !strings.Contains(in.log.String(), want) {
					t.Errorf("the output lacks %q:\n%s", want, in.log)
				}
			}
			// The key and token in use, as clients send them.
			req, _ := http.NewRequest(http.MethodGet, base+"/v1/deliveries?limit=1", nil)
			req.Header.Set("Authorization", "Bearer "+s.inUse["api_keys"])
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("GET /v1/deliveries with the configured key: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			ping := fmt.Sprintf(`{"system":"basic","token":%q,"hrefs":["/dav/principals/fred/"]}`, s.inUse["systems.basic.tokens"])
			if resp, err := http.Post(base+"/v1/notifications", "application/json", strings.NewReader(ping)); err != nil || resp.StatusCode >= 300 {
				t.Errorf("ping with the configured token: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			in.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-in.exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("notifyd still running 20s after SIGTERM:\n%s", in.log)
			}
			s.assertNoSecret("notifyd serve", in.log.String())

			out, code := runNotifyd(t, s.env, "migrate", "-config", in.config)
			if code != 0 {
				t.Errorf("notifyd migrate: exit %d\n%s", code, out)
			}
			s.assertNoSecret("notifyd migrate", out)
		})
	}
}

// TestSecretsNeverPrintedWhenPostgresIsUnreachable starts notifyd serve
// and migrate with database.url pointing at a closed port: the start
// fails and says why, without the passwords of the URL or any other.
func TestSecretsNeverPrintedWhenPostgresIsUnreachable(t *testing.T) {
	for _, way := range []string{"yaml", "env"} {
		t.Run(way, func(t *testing.T) {
			s, _ := newSecretSet(t, way, "json")
			s.setDatabaseURL(way, "postgres://notifyd@"+freeAddr(t)+"/notifyd?sslmode=disable")
			path := s.write()
			for _, cmd := range []string{"serve", "migrate"} {
				out, code := runNotifyd(t, s.env, cmd, "-config", path)
				if code != 1 || !strings.Contains(out, "failed to connect") {
					t.Errorf("notifyd %s against a closed port: exit %d, want 1 and the connection error:\n%s", cmd, code, out)
				}
				s.assertNoSecret("notifyd "+cmd, out)
			}
		})
	}
}

// TestSecretsNeverPrintedInConfigProblems gives notifyd a configuration it
// refuses, with secrets in the URLs that are wrong: the problems name the
// keys, not the values.
func TestSecretsNeverPrintedInConfigProblems(t *testing.T) {
	s, _ := newSecretSet(t, "yaml", "json")
	s.set("database.url", "mysql://notifyd:"+s.newSecret("dbbad")+"@127.0.0.1/notifyd?password="+s.newSecret("dbbadquery"))
	s.set("channels.twilio.base_url", "ftp://u:"+s.newSecret("twbad")+"@127.0.0.1/?token="+s.newSecret("twbadquery"))
	s.set("http.public_url", "https://u:"+s.newSecret("publicbad")+"@notifyd.example.org/")
	s.set("channels.twilio.fallback_accounts", []any{map[string]any{"account_sid": smsBackupSID, "from": smsBackupFrom,
		"auth_token": s.newSecret("fbtoken"), "base_url": "ftp://u:" + s.newSecret("fbbad") + "@127.0.0.1/?token=" + s.newSecret("fbbadquery")}})
	s.set("jobs.sync_workers", 0)
	path := s.write()
	for _, cmd := range []string{"serve", "migrate"} {
		out, code := runNotifyd(t, s.env, cmd, "-config", path)
		for _, key := range []string{"database.url", "channels.twilio.base_url", "http.public_url", "jobs.sync_workers",
			"channels.twilio.fallback_accounts[1].base_url"} {
			if code != 1 || !strings.Contains(out, key) {
				t.Errorf("notifyd %s with a bad config: exit %d, want 1 and a problem naming %s:\n%s", cmd, code, key, out)
			}
		}
		s.assertNoSecret("notifyd "+cmd, out)
	}
}
