package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// A home upgraded to schema version 5 counts the anomalies already in its
// log as alerted: they were raised before alerts existed, and the feed's
// replay at the first start must not send them all at once. Other records
// are not marked.
func TestMigration5MarksEarlierAnomaliesAlerted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agentkeys.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var seqs []int64
	for _, method := range []string{"agentkeys_anomaly", "eth_sendTransaction", "agentkeys_anomaly"} {
		r, err := s.AppendAudit(t.Context(), audit.Record{Time: at, KeyID: "k", Method: method, Call: []byte(`{}`), Decision: audit.DecisionAllow})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, r.Seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Take the file back to the schema before version 5 (undoing 6 to 10
	// too), its log kept.
	db := rawDB(t, path)
	for _, q := range []string{`DROP TABLE alert_deliveries`, `DROP TABLE alerted_anomalies`, `DROP TABLE alert_hooks`,
		`ALTER TABLE audit_records DROP COLUMN user_agent`, `ALTER TABLE grants DROP COLUMN pending`, `ALTER TABLE grants DROP COLUMN seal`,
		`DROP TABLE owner_passkeys`, `DROP TABLE passkey_enrollments`, `DROP TABLE owner_changes`, `DELETE FROM schema_version WHERE version >= 5`} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s = openAt(t, path)
	for i, seq := range seqs {
		fresh, err := s.RecordAlert(t.Context(), seq, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 1; fresh != want { // only the non-anomaly record is unmarked
			t.Errorf("record %d: RecordAlert new = %v, want %v", seq, fresh, want)
		}
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
