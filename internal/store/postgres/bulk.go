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
	rows, keys, err := store.GrantRows(gs)
	if err != nil {
		return fmt.Errorf("create grants: %w", err)
	}
	err = s.writeTx(ctx, func(tx pgx.Tx) error {
		for _, id := range keys {
			if err := signerKeyExists(ctx, tx, id); err != nil {
				return err
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
	if err := store.ValidateRecords(rs); err != nil {
		return audit.Head{}, fmt.Errorf("append audits: %w", err)
	}
	var head audit.Head
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		if len(rs) == 0 {
			return nil
		}
		rows, last, err := store.ChainRecords(head, rs)
		if err != nil {
			return err
		}
		head = last
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_records"}, columnList(store.AuditColumns), pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("insert audit records: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, head.Seq, head.Hash); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, auditChannel)
		return err
	})
	if err != nil {
		return audit.Head{}, fmt.Errorf("append audits: %w", err)
	}
	return head, nil
}
