package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestScopedKeysAndAudit runs the real binary with keys of each kind: a
// viewer key is refused a change (403), a key scoped to one system does
// not see another system's subscription (404), the audit trail lists an
// admin's change under the admin key's name, and a key file rotated with
// SIGHUP takes effect without a restart.
func TestScopedKeysAndAudit(t *testing.T) {
	const (
		viewerKey  = "e2e-viewer-key-0123456789"
		campusKey  = "e2e-campus-key-0123456789"
		rotatedKey = "e2e-rotated-key-0123456789"
	)
	in := newInstanceWith(t, fmt.Sprintf(`systems:
  cal:
    caldav_url: http://127.0.0.1:1/
    tokens: [%s]
  campus:
    caldav_url: http://127.0.0.1:1/
    tokens: [campus-token-0123456789]
jobs:
  run: false
named_api_keys:
  - {name: auditor, key: %s, role: viewer}
  - {name: campus-ops, key_file: campus.key, role: operator, systems: [campus]}
`, pingToken, viewerKey))
	keyFile := filepath.Join(in.dir, "campus.key")
	if err := os.WriteFile(keyFile, []byte(campusKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.start()
	call := func(key, method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, in.baseURL+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	sub := map[string]any{"system": "cal", "principal": "/principals/users/fred/",
		"methods": []map[string]any{{"channel": "email", "address": "fred@example.org"}}}

	// The admin key of api_keys creates a subscription of system cal.
	status, body := in.api(t, "POST", "/v1/subscriptions", sub)
	if status != http.StatusCreated {
		t.Fatalf("admin create: %d %v", status, body)
	}
	id := body["id"].(string)
	// A viewer may read it, not change it.
	if status, b := call(viewerKey, "GET", "/v1/subscriptions/"+id, nil); status != http.StatusOK {
		t.Errorf("viewer read: %d %s", status, b)
	}
	if status, b := call(viewerKey, "PATCH", "/v1/subscriptions/"+id, map[string]any{"enabled": false}); status != http.StatusForbidden {
		t.Errorf("viewer change: %d %s, want 403", status, b)
	}
	// A key scoped to campus does not see cal's subscription.
	if status, b := call(campusKey, "GET", "/v1/subscriptions/"+id, nil); status != http.StatusNotFound {
		t.Errorf("campus key, cal subscription: %d %s, want 404", status, b)
	}
	// The audit lists the admin's change, by the key's name.
	status, b := call(viewerKey, "GET", "/v1/audit?resource_id="+id, nil)
	var page struct {
		Items []struct {
			Actor, Action, System string
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &page); status != http.StatusOK || err != nil {
		t.Fatalf("audit: %d %s", status, b)
	}
	if len(page.Items) != 1 || page.Items[0].Actor != "key-1" || page.Items[0].Action != "subscription.created" || page.Items[0].System != "cal" {
		t.Errorf("audit: %s", b)
	}
	// The campus key sees none of it.
	if _, b := call(campusKey, "GET", "/v1/audit", nil); !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("campus key's audit: %s", b)
	}

	// Rotation: a new key in the file, then SIGHUP.
	mark := in.logMark()
	if err := os.WriteFile(keyFile, []byte(rotatedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	in.waitLog(t, 30*time.Second, mark, 1, "API keys reloaded")
	if status, b := call(rotatedKey, "GET", "/v1/subscriptions?system=campus", nil); status != http.StatusOK {
		t.Errorf("rotated key: %d %s", status, b)
	}
	if status, _ := call(campusKey, "GET", "/v1/subscriptions", nil); status != http.StatusUnauthorized {
		t.Errorf("replaced key: %d, want 401", status)
	}
	if strings.Contains(in.log.String(), rotatedKey) || strings.Contains(in.log.String(), campusKey) {
		t.Error("the log shows a key")
	}
}
