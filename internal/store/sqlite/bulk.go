package sqlite

import (
	"context"
	"fmt"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

var _ store.Bulk = (*Store)(nil)

// CreateGrants implements store.Bulk: one write job, its insert prepared
// once for all the grants.
func (s *Store) CreateGrants(ctx context.Context, gs []store.Grant) error {
	rows := make([][]any, len(gs))
	for i, g := range gs {
		args, err := grantArgs(g)
		if err != nil {
			return fmt.Errorf("create grants: grant %d: %w", i, err)
		}
		rows[i] = args
	}
	var failed int
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		checked := map[string]bool{}
		for _, g := range gs {
			if !checked[g.SignerKeyID] {
				if err := signerKeyExists(ctx, tx, g.SignerKeyID); err != nil {
					return err
				}
				checked[g.SignerKeyID] = true
			}
		}
		st, err := tx.tx.PrepareContext(ctx, insertGrantSQL)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, args := range rows {
			if _, err := st.ExecContext(ctx, args...); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if isDuplicate(err) {
		return fmt.Errorf("create grants: grant %q: %w", gs[failed].ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create grants: %w", err)
	}
	return nil
}

// AppendAudits implements store.Bulk: one write job, its insert prepared
// once for all the records, the head moved once at the end.
func (s *Store) AppendAudits(ctx context.Context, rs []audit.Record) (audit.Head, error) {
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return audit.Head{}, fmt.Errorf("append audits: record %d: %w: %w", i, store.ErrInvalid, err)
		}
	}
	var head audit.Head
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		if len(rs) == 0 {
			return nil
		}
		st, err := tx.tx.PrepareContext(ctx, insertAuditSQL)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rs {
			r.Seq = head.Seq + 1
			r = audit.Chain(head.Hash, r)
			args, err := auditArgs(r)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert audit record: %w", err)
			}
			head = audit.Head{Seq: r.Seq, Hash: r.Hash}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, head.Seq, head.Hash); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		return nil
	})
	if err != nil {
		return audit.Head{}, fmt.Errorf("append audits: %w", err)
	}
	return head, nil
}
