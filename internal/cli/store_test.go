package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
)

// init --store puts the home's store in PostgreSQL: the home keeps only
// config.json, which names it; a copy of that config opens the same
// deployment (a replica), and the audit commands read the shared log.
func TestInitStoreOnPostgres(t *testing.T) {
	setInitEnv(t)
	t.Setenv(home.EnvStore, "")
	dsn := pgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "a")
	out, errOut, code := run(t, "", "init", "--home", dir, "--store", dsn)
	if code != 0 {
		t.Fatalf("init --store: exit %d: %s", code, errOut)
	}
	token := adminTokenRE.FindString(out)
	wallet := openHome(t, dir, token)
	if _, err := os.Stat(filepath.Join(dir, home.DBFile)); err == nil {
		t.Errorf("init --store made %s too", home.DBFile)
	}

	replica := filepath.Join(t.TempDir(), "b")
	cfg, err := os.ReadFile(filepath.Join(dir, home.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(replica, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(replica, home.ConfigFile), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := openHome(t, replica, token); got != wallet {
		t.Errorf("the replica's home holds wallet %s, want %s", got, wallet)
	}
	out, errOut, code = run(t, "", "audit", "verify", "--home", replica)
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Errorf("audit verify on the replica: exit %d: %s%s", code, out, errOut)
	}

	// Another init on the same database is refused.
	_, errOut, code = run(t, "", "init", "--home", filepath.Join(t.TempDir(), "c"), "--store", dsn)
	if code == 0 || !strings.Contains(errOut, "already holds a home") {
		t.Errorf("second init on one database: exit %d: %s", code, errOut)
	}
}

// A --store that is not a PostgreSQL URL, or one that cannot be reached,
// is refused with an error that never repeats its password.
func TestStoreFlagRefusedWithoutSecrets(t *testing.T) {
	setInitEnv(t)
	t.Setenv(home.EnvStore, "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--home", filepath.Join(t.TempDir(), "x"), "--store", "mysql://agent:s3cr3t-pw@db.internal/agentkeys"}, "--store: expected a postgres:// or postgresql:// URL"},
		{[]string{"init", "--home", filepath.Join(t.TempDir(), "y"), "--store", "postgres://agent:s3cr3t-pw@127.0.0.1:1/agentkeys?connect_timeout=2"}, "postgres://127.0.0.1:1"},
		{[]string{"serve", "--home", filepath.Join(t.TempDir(), "z"), "--store", "sqlite:///agent:s3cr3t-pw"}, "--store: expected"},
	} {
		_, errOut, code := run(t, "", tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "s3cr3t") {
			t.Errorf("%s: exit %d, stderr %q; want an error containing %q and no password", tt.args[0], code, errOut, tt.want)
		}
	}
}
