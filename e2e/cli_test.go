package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/peertest"
)

func runNotifyd(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func TestCLIVersion(t *testing.T) {
	out, code := runNotifyd(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "notifyd ") {
		t.Fatalf("notifyd version: exit %d, output %q", code, out)
	}
}

func TestCLIMigrateCreatesTheEmbeddedDatabase(t *testing.T) {
	dir := t.TempDir()
	out, code := runNotifyd(t, []string{"NOTIFYD_DATA_DIR=" + dir}, "migrate")
	if code != 0 {
		t.Fatalf("notifyd migrate: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `"msg":"database migrated"`) {
		t.Fatalf("migrate did not log what it did:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "notifyd.db")); err != nil {
		t.Fatalf("no database after migrate: %v", err)
	}
	// Migrating again is harmless and applies nothing.
	out, code = runNotifyd(t, []string{"NOTIFYD_DATA_DIR=" + dir}, "migrate")
	if code != 0 || !strings.Contains(out, `"store_migrations_applied":0`) {
		t.Fatalf("second migrate: exit %d\n%s", code, out)
	}
}

func TestCLIRefusesABadConfigAndSaysWhy(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("http:\n  adr: 127.0.0.1:1\n"), 0o600)
	out, code := runNotifyd(t, nil, "-config", cfg, "serve")
	if code != 1 || !strings.Contains(out, "http.adr") {
		t.Fatalf("bad config: exit %d, want 1 and a message naming http.adr:\n%s", code, out)
	}
	out, code = runNotifyd(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(out, "unknown command") {
		t.Fatalf("unknown command: exit %d\n%s", code, out)
	}
}

func TestCLISecretsNeverLogged(t *testing.T) {
	in := newInstance(t)
	in.start()
	if err, _ := in.stop(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{pingToken, apiKey} {
		if strings.Contains(in.log.String(), secret) {
			t.Fatalf("the log contains the secret %q:\n%s", secret, in.log)
		}
	}
}

// TestCLIMigratePostgresOnceFromThreeAtOnce runs notifyd migrate from three
// processes at once against one PostgreSQL database, as replicas starting
// together do: all succeed, one applies the migrations, and the password
// in the URL never reaches the log.
func TestCLIMigratePostgresOnceFromThreeAtOnce(t *testing.T) {
	pg := peertest.StartPostgres(t)
	url := pg.Database(t)
	if _, err := exec.Command("psql", url, "-c", "ALTER USER postgres PASSWORD 'pg-secret-pw'").CombinedOutput(); err != nil {
		t.Fatal(err)
	}
	url = strings.Replace(url, "postgres@", "postgres:pg-secret-pw@", 1)
	type result struct {
		out  string
		code int
	}
	results := make(chan result, 3)
	for range 3 {
		go func() {
			out, code := runNotifyd(t, []string{"NOTIFYD_DATABASE_URL=" + url}, "migrate")
			results <- result{out, code}
		}()
	}
	applied := 0
	for range 3 {
		r := <-results
		if r.code != 0 {
			t.Fatalf("notifyd migrate: exit %d\n%s", r.code, r.out)
		}
		if strings.Contains(r.out, "pg-secret-pw") {
			t.Fatalf("the database password reached the log:\n%s", r.out)
		}
		if !strings.Contains(r.out, `"store_migrations_applied":0`) {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("%d of the three processes applied migrations, want exactly 1", applied)
	}
	files, err := filepath.Glob("../store/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found in ../store/migrations (%v)", err)
	}
	out, err := exec.Command("psql", url, "-Atc", "SELECT count(*) FROM goose_db_version WHERE version_id > 0").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(len(files)) {
		t.Fatalf("goose_db_version rows: %q %v, want %d (each migration once)", out, err, len(files))
	}
}
