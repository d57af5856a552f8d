package postgres

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
	"github.com/agentkeys/agentkeys/internal/store/storetest"
)

// openTemp opens a store in a fresh schema, closed when t ends.
func openTemp(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, pgtest.DSN(t)) })
}

func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T, n int) []store.Store {
		dsn := pgtest.DSN(t)
		var out []store.Store
		for range n {
			out = append(out, openTemp(t, dsn))
		}
		return out
	})
}

// TestMigrations: replicas starting at once on a new schema apply each
// migration once; a schema migrated by a newer binary is refused.
func TestMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := Open(t.Context(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	s := openTemp(t, dsn)
	ms, err := store.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var n, v int
	if err := s.pool.QueryRow(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if newest := ms[len(ms)-1].Version; n != len(ms) || v != newest {
		t.Errorf("schema_version has %d rows up to %d, want %d up to %d", n, v, len(ms), newest)
	}
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_version (version) VALUES ($1)`, ms[len(ms)-1].Version+1); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(t.Context(), dsn); !errors.Is(err, store.ErrSchemaTooNew) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// TestLeadTakeover: one replica at a time leads; when the leader's
// session dies (its process killed, its connection cut) another takes
// over at its next try, and the old leader knows it no longer leads.
func TestLeadTakeover(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openTemp(t, dsn), openTemp(t, dsn)
	lead := func(s *Store) bool {
		t.Helper()
		ok, err := s.Lead(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lead(a) || !lead(a) {
		t.Fatal("the first replica does not lead")
	}
	if lead(b) {
		t.Fatal("two replicas lead at once")
	}
	// Cut a's session from outside, as a crash or a network failure would.
	var pid int
	if err := a.lead.conn.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	// The backend ends (and its locks go) a moment after the signal.
	deadline := time.Now().Add(time.Minute)
	for {
		var alive bool
		if err := b.pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminated backend is still there after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !lead(b) {
		t.Fatal("no takeover after the leader's session died")
	}
	if lead(a) {
		t.Fatal("the old leader still leads beside the new one")
	}
	// A clean Close hands over at once too.
	b.lead.close()
	if !lead(a) {
		t.Fatal("no takeover after the leader let go")
	}
}

// TestOpenRedactsDSN: a password in the URL never reaches an error.
func TestOpenRedactsDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://agent:s3cr3t-pw@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=2",
		"postgresql://agent:s3cr3t-pw@127.0.0.1:1/nodb?password=s3cr3t-pw&connect_timeout=2",
		"postgres://agent:s3cr3t-pw@[::1/x",
		"mysql://agent:s3cr3t-pw@host/db",
	} {
		s, err := Open(t.Context(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded", Redact(dsn))
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open error repeats the password: %v", err)
		}
	}
	if got := Redact("postgres://agent:pw@db.internal:5432/agentkeys?sslmode=require"); got != "postgres://db.internal:5432/…" {
		t.Errorf("Redact = %q", got)
	}
}
