package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestBackup copies a store while it stays open for writes: the copy
// opens as a store whose audit chain verifies and holds what was
// committed before the backup, and nothing after; an existing target is
// refused and left alone.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		if _, err := s.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionAllow}); err != nil {
			t.Fatal(err)
		}
	}
	to := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, to); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionDeny}); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, to); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}

	b, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rep, head, err := store.VerifyAudit(ctx, b, 0)
	if err != nil || !rep.OK() || head.Seq != 3 {
		t.Fatalf("backup: head %d, report %+v, %v", head.Seq, rep, err)
	}
}
