package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

var _ store.Bulk = (*Store)(nil)

// columnList splits a column list like grantColumns for CopyFrom.
func columnList(cols string) []string {
	out := strings.Split(cols, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// CreateGrants implements store.Bulk with one COPY.
func (s *Store) CreateGrants(ctx context.Context, gs []store.Grant) error {
	rows := make([][]any, len(gs))
	for i, g := range gs {
		args, err := grantArgs(g)
		if err != nil {
			return fmt.Errorf("create grants: grant %d: %w", i, err)
		}
		rows[i] = args
	}
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		checked := map[string]bool{}
		for _, g := range gs {
			if !checked[g.SignerKeyID] {
				if err := signerKeyExists(ctx, tx, g.SignerKeyID); err != nil {
					return err
				}
				checked[g.SignerKeyID] = true
			}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"grants"}, columnList(grantColumns), pgx.CopyFromRows(rows))
		return err
	})
	if pgCode(err) == codeUniqueViolation {
		return fmt.Errorf("create grants: %w: a grant id is stored already or given twice", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create grants: %w", err)
	}
	return nil
}

// AppendAudits implements store.Bulk: the records are chained under the
// audit head's lock and copied in with one COPY.
func (s *Store) AppendAudits(ctx context.Context, rs []audit.Record) (audit.Head, error) {
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return audit.Head{}, fmt.Errorf("append audits: record %d: %w: %w", i, store.ErrInvalid, err)
		}
	}
	var head audit.Head
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		if len(rs) == 0 {
			return nil
		}
		rows := make([][]any, len(rs))
		for i, r := range rs {
			r.Seq = head.Seq + 1
			r = audit.Chain(head.Hash, r)
			args, err := auditArgs(r)
			if err != nil {
				return err
			}
			rows[i] = args
			head = audit.Head{Seq: r.Seq, Hash: r.Hash}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_records"}, columnList(auditColumns), pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("insert audit records: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, head.Seq, head.Hash); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, auditChannel)
		return err
	})
	if err != nil {
		return audit.Head{}, fmt.Errorf("append audits: %w", err)
	}
	return head, nil
}
