// Package pgtest gives tests a fresh, empty schema in a real PostgreSQL
// (the one named by $AGENTKEYS_TEST_POSTGRES, by default the local server
// CI starts), dropped when the test ends, so parallel test packages never
// see each other's tables. Without a reachable server a test is skipped on
// a laptop but fails when CI=true, because in CI every dependency must be
// present (.ci/run makes sure PostgreSQL is up). Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

// EnvDSN names the environment variable with the test server's URL.
const EnvDSN = "AGENTKEYS_TEST_POSTGRES"

// DefaultDSN is the server tests use when EnvDSN is not set: this
// machine's, trust authentication, database test.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN creates a schema named t_<random> and returns a URL whose
// connections use it (search_path); the schema and everything in it are
// dropped in t.Cleanup.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		base = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL at %s (set %s): %s", secrets.RedactURL(base), EnvDSN, secrets.RedactURLs(err.Error()))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(context.Background())
	var b [8]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
