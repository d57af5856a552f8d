package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const wallet = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"

// seed stores a key, a grant "g" and n audit records, half of them inside
// Decide.
func seed(t *testing.T, s *Store, n int) {
	t.Helper()
	seedTB(t, s)
	c := t.Context()
	for i := range n {
		r := audit.Record{Time: t0.Add(time.Duration(i) * time.Second), KeyID: "g", Method: "eth_sendTransaction",
			Decision: audit.DecisionAllow, Reasons: []string{"allowed by rule swap"}}
		if i%2 == 0 {
			if _, err := s.AppendAudit(c, r); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := s.Decide(c, "g", func(ctx context.Context, tx store.DecideTx) error {
			_, err := tx.AppendAudit(ctx, r)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// seedTB stores a key "k" and a grant "g".
func seedTB(t testing.TB, s *Store) {
	t.Helper()
	c := t.Context()
	if err := s.PutKey(c, store.Key{ID: "k", Kind: store.KeyKindWallet, Address: wallet, Sealed: []byte{1}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	g := store.Grant{ID: "g", Agent: "bot", Mode: store.ModeWallet, Address: wallet, SignerKeyID: "k",
		CredentialHash: []byte{1}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateGrant(c, g); err != nil {
		t.Fatal(err)
	}
}

// rawDB opens the file with plain SQL, as an attacker with file access would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func verifyStored(t *testing.T, s *Store) audit.Report {
	t.Helper()
	head, err := s.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.AuditRecords(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Verify(recs, &head)
}

func TestTamperDetected(t *testing.T) {
	type found struct {
		Seq  int64
		Kind audit.ProblemKind
	}
	tests := []struct {
		name string
		sql  []string
		want []found
	}{
		{
			name: "untouched",
		},
		{
			name: "edit reasons",
			sql:  []string{`UPDATE audit_records SET reasons = '["nothing to see"]' WHERE seq = 3`},
			want: []found{{3, audit.ProblemEdited}},
		},
		{
			name: "edit decision",
			sql:  []string{`UPDATE audit_records SET decision = 'deny' WHERE seq = 2`},
			want: []found{{2, audit.ProblemEdited}},
		},
		{
			name: "reasons no longer JSON",
			sql:  []string{`UPDATE audit_records SET reasons = 'oops' WHERE seq = 1`},
			want: []found{{1, audit.ProblemEdited}},
		},
		{
			name: "delete a middle record",
			sql:  []string{`DELETE FROM audit_records WHERE seq = 3`},
			want: []found{{4, audit.ProblemMissing}},
		},
		{
			name: "delete the last record",
			sql:  []string{`DELETE FROM audit_records WHERE seq = 6`},
			want: []found{{6, audit.ProblemTruncated}},
		},
		{
			name: "swap two records' seq",
			sql: []string{
				`UPDATE audit_records SET seq = -1 WHERE seq = 2`,
				`UPDATE audit_records SET seq = 2 WHERE seq = 3`,
				`UPDATE audit_records SET seq = 3 WHERE seq = -1`,
			},
			want: []found{
				{2, audit.ProblemBrokenLink}, {2, audit.ProblemEdited},
				{3, audit.ProblemBrokenLink}, {3, audit.ProblemEdited},
				{4, audit.ProblemBrokenLink},
			},
		},
		{
			name: "delete the last record and roll the head back by seq only",
			sql: []string{
				`DELETE FROM audit_records WHERE seq = 6`,
				`UPDATE audit_head SET seq = 5`,
			},
			want: []found{{5, audit.ProblemHead}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agentkeys.db")
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			seed(t, s, 6)
			db := rawDB(t, path)
			for _, q := range tt.sql {
				if _, err := db.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep := verifyStored(t, s)
			var got []found
			for _, p := range rep.Problems {
				got = append(got, found{p.Seq, p.Kind})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%s", diff, rep)
			}
		})
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	for _, c := range []struct {
		db          *sql.DB
		pragma, val string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "10000"},
		{s.w, "synchronous", "2"},
		{s.r, "foreign_keys", "1"},
		{s.r, "busy_timeout", "10000"},
		{s.r, "query_only", "1"},
	} {
		var got string
		if err := c.db.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.val {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.val)
		}
	}
	if _, err := s.r.ExecContext(t.Context(), `DELETE FROM grants`); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		if s, err := Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestMigrations(t *testing.T) {
	ms, err := store.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("migrations = %v", ms)
	}

	path := filepath.Join(t.TempDir(), "agentkeys.db")
	for range 2 { // reopening applies nothing twice
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		var n, v int
		if err := s.r.QueryRowContext(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if newest := ms[len(ms)-1].Version; n != len(ms) || v != newest {
			t.Errorf("schema_version has %d rows up to %d, want %d up to %d", n, v, len(ms), newest)
		}
		s.Close()
	}

	db := rawDB(t, path)
	if _, err := db.ExecContext(t.Context(), `INSERT INTO schema_version (version) VALUES (?)`, ms[len(ms)-1].Version+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(t.Context(), path); !errors.Is(err, store.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// TestPendingMigrations: numbering may have gaps, but a migration never
// runs after a newer one, and a database from a build with other
// migrations is refused, not guessed at.
func TestPendingMigrations(t *testing.T) {
	ms := []store.Migration{{Version: 1, Name: "0001_init.sql"}, {Version: 3, Name: "0003_ledger.sql"}, {Version: 4, Name: "0004_next.sql"}}
	names := func(ms []store.Migration) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	tests := []struct {
		name    string
		applied []int
		want    []string
		wantErr string
	}{
		{"new database", nil, []string{"0001_init.sql", "0003_ledger.sql", "0004_next.sql"}, ""},
		{"after the first", []int{1}, []string{"0003_ledger.sql", "0004_next.sql"}, ""},
		{"up to date", []int{1, 3, 4}, []string{}, ""},
		{"a newer version", []int{1, 3, 4, 5}, nil, "newer than this binary"},
		{"an unknown version in a gap", []int{1, 2}, nil, "version 2, which this binary does not know"},
		{"missing an older migration", []int{1, 4}, nil, "lacks 0003_ledger.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.PendingMigrations(ms, tt.applied)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("pending = %v, %v; want error containing %q", names(got), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := store.SortMigrations([]store.Migration{{Version: 2, Name: "0002_a.sql"}, {Version: 2, Name: "0002_b.sql"}}); err == nil {
		t.Error("two migrations with one version were accepted")
	}
}

func TestSecondOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agentkeys.db")
	a, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	seed(t, a, 0)
	b, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// Each sees the other's writes.
	if err := b.RevokeGrant(t.Context(), "g", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if g, err := a.GetGrant(t.Context(), "g"); err != nil || g.RevokedAt == nil {
		t.Fatalf("first handle does not see the second's revocation: %v", err)
	}

	// Both handles allocate nonces from one counter, concurrently.
	const each = 40
	errc := make(chan error, 2*each)
	got := make(chan uint64, 2*each)
	for i := range 2 * each {
		s := []*Store{a, b}[i%2]
		go func() {
			errc <- s.Decide(t.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
				n, err := tx.NextNonce(ctx, 1, wallet, 0)
				if err != nil {
					return err
				}
				if err := tx.Reserve(ctx, t0, []store.Spend{{Asset: "native", Amount: big.NewInt(1)}}); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionAllow}); err != nil {
					return err
				}
				got <- n
				return nil
			})
		}()
	}
	seen := map[uint64]bool{}
	for range 2 * each {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		n := <-got
		if seen[n] {
			t.Fatalf("nonce %d handed out twice", n)
		}
		seen[n] = true
	}
	for n := range uint64(2 * each) {
		if !seen[n] {
			t.Fatalf("nonce %d never handed out: %v", n, seen)
		}
	}
	if rep := verifyStored(t, a); !rep.OK() || rep.Records != 2*each {
		t.Error(rep)
	}
}

func TestDuplicateIsConflictNotString(t *testing.T) {
	// Guards the error-code mapping against driver changes.
	s := openTemp(t)
	seed(t, s, 0)
	err := s.PutKey(t.Context(), store.Key{ID: "k", Kind: "wallet", Address: wallet, Sealed: []byte{1}, CreatedAt: t0})
	if !errors.Is(err, store.ErrConflict) || strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("duplicate key error = %v", err)
	}
}
