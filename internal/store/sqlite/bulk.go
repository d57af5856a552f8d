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
	rows, keys, err := store.GrantRows(gs)
	if err != nil {
		return fmt.Errorf("create grants: %w", err)
	}
	var failed int
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		for _, id := range keys {
			if err := signerKeyExists(ctx, tx, id); err != nil {
				return err
			}
		}
		var err error
		failed, err = execEach(ctx, tx, insertGrantSQL, rows)
		return err
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
	if err := store.ValidateRecords(rs); err != nil {
		return audit.Head{}, fmt.Errorf("append audits: %w", err)
	}
	var head audit.Head
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		if len(rs) == 0 {
			return nil
		}
		rows, last, err := store.ChainRecords(head, rs)
		if err != nil {
			return err
		}
		if _, err := execEach(ctx, tx, insertAuditSQL, rows); err != nil {
			return fmt.Errorf("insert audit record: %w", err)
		}
		head = last
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

// execEach runs query, prepared once in tx, with each row of arguments;
// on error it returns the index of the row that failed.
func execEach(ctx context.Context, tx *wtx, query string, rows [][]any) (int, error) {
	st, err := tx.tx.PrepareContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for i, args := range rows {
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return i, err
		}
	}
	return 0, nil
}
