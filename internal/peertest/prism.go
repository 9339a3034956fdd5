package peertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TwilioSpecEnv names the environment variable that can give the path of
// Twilio's OpenAPI document (twilio_api_v2010.json) Prism serves.
const TwilioSpecEnv = "TWILIO_SPEC"

// Prism is a running Prism (@stoplight/prism-cli) mocking Twilio's REST
// API from Twilio's own OpenAPI document: it checks every request against
// the document (a message without To gets 422 with the reason, a request
// without Basic auth 401) and answers a valid one with the document's
// example (a message "SMaaaa…" in status "queued", 201).
type Prism struct {
	// URL is the API's base URL, "http://127.0.0.1:PORT": the value of
	// channels.twilio.base_url.
	URL string
	// Port is the TCP port it listens on.
	Port int
	// Dir holds prism.pid and prism.log (every request, and why Prism
	// refused it).
	Dir string
	// Spec is the OpenAPI document served.
	Spec string
}

// TwilioSpec returns the path of Twilio's OpenAPI document: $TWILIO_SPEC,
// else ../shared/twilio/twilio_api_v2010.json beside the repository (it is
// not part of the project). When the file is absent it fails the test under
// CI (CI=true) and skips it loudly elsewhere.
func TwilioSpec(t testing.TB) string {
	t.Helper()
	spec := os.Getenv(TwilioSpecEnv)
	where := "$" + TwilioSpecEnv
	if spec == "" {
		_, file, _, _ := runtime.Caller(0)
		spec = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "twilio", "twilio_api_v2010.json")
		where = "../shared/twilio/ beside the repository"
	}
	if _, err := os.Stat(spec); err != nil {
		msg := fmt.Sprintf("PEER MISSING: Twilio's OpenAPI document is not at %s (%s): put twilio_api_v2010.json "+
			"(github.com/twilio/twilio-oai, spec/json) there or set %s to its path to run this test against Prism", spec, where, TwilioSpecEnv)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// StartPrism starts Prism on a free loopback port serving Twilio's OpenAPI
// document (see TwilioSpec), with its pid file and log in a temporary
// directory; the test's cleanup stops it. It needs node and
// @stoplight/prism-cli (scripts/peers/install.sh installs them): when they
// are missing it fails under CI and skips elsewhere.
func StartPrism(t testing.TB) *Prism {
	t.Helper()
	spec := TwilioSpec(t)
	if out, err := exec.Command(Script("prism.sh"), "bin").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("PEER MISSING: %s; run scripts/peers/install.sh (make test does) to run this test against the real peer",
			strings.TrimSpace(string(out)))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	p := &Prism{Dir: t.TempDir(), Spec: spec}
	var out []byte
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		p.Port = FreePort(t)
		out, err = exec.Command(Script("prism.sh"), "start", p.Dir, strconv.Itoa(p.Port), spec).CombinedOutput()
		if err == nil {
			break
		}
		// A port taken between FreePort and the start: try another.
		if !bytes.Contains(out, []byte("EADDRINUSE")) {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting Prism: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(Script("prism.sh"), "stop", p.Dir).CombinedOutput(); err != nil {
			t.Errorf("stopping Prism: %v\n%s", err, out)
		}
	})
	t.Logf("%s", bytes.TrimSpace(out))
	p.URL = "http://127.0.0.1:" + strconv.Itoa(p.Port)
	return p
}

// Log returns what Prism logged so far (each request and, for a refused
// one, the violations), for a failing test to show.
func (p *Prism) Log() string {
	b, err := os.ReadFile(filepath.Join(p.Dir, "prism.log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}
