package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// RevokeGrantFor implements store.Store.
func (s *Store) RevokeGrantFor(ctx context.Context, id string, at time.Time, reason string, a audit.Record) (bool, error) {
	switch {
	case at.IsZero():
		return false, fmt.Errorf("revoke grant: %w: zero time", store.ErrInvalid)
	case reason == "":
		return false, fmt.Errorf("revoke grant: %w: empty reason", store.ErrInvalid)
	}
	if err := a.Validate(); err != nil {
		return false, fmt.Errorf("revoke grant: %w: %w", store.ErrInvalid, err)
	}
	var revoked bool
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		g, err := getGrant(ctx, tx, id)
		if err != nil || g.RevokedAt != nil {
			return err
		}
		if g.Meta == nil {
			g.Meta = map[string]string{}
		}
		g.Meta[store.MetaRevokedReason] = reason
		meta, err := json.Marshal(g.Meta)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ?, meta = ? WHERE id = ?`, ms(at), string(meta), id); err != nil {
			return err
		}
		revoked = true
		_, err = appendAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("revoke grant: %w", err)
	}
	return revoked, nil
}

// suspend suspends the grant id inside tx unless it is suspended, and
// reports whether it did.
func suspend(ctx context.Context, tx *wtx, id string, sp store.Suspension) (bool, error) {
	g, err := getGrant(ctx, tx, id)
	if err != nil || g.SuspendedAt != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE grants SET suspended_at = ?, suspend_reason = ? WHERE id = ?`, ms(sp.At), sp.Reason, id); err != nil {
		return false, err
	}
	if _, err := appendAudit(ctx, tx, sp.Audit); err != nil {
		return false, err
	}
	return true, nil
}

// SuspendGrant implements store.Store.
func (s *Store) SuspendGrant(ctx context.Context, id string, sp store.Suspension) (bool, error) {
	if err := sp.Validate(); err != nil {
		return false, fmt.Errorf("suspend grant: %w", err)
	}
	var done bool
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		var err error
		done, err = suspend(ctx, tx, id, sp)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("suspend grant: %w", err)
	}
	return done, nil
}

// ResumeGrant implements store.Store.
func (s *Store) ResumeGrant(ctx context.Context, id string, a audit.Record) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, fmt.Errorf("resume grant: %w: %w", store.ErrInvalid, err)
	}
	var done bool
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		g, err := getGrant(ctx, tx, id)
		if err != nil || g.SuspendedAt == nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET suspended_at = NULL, suspend_reason = '' WHERE id = ?`, id); err != nil {
			return err
		}
		done = true
		_, err = appendAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("resume grant: %w", err)
	}
	return done, nil
}

// ActivateGrant implements store.Store.
func (s *Store) ActivateGrant(ctx context.Context, id string, a store.Activation) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, fmt.Errorf("activate grant: %w", err)
	}
	var done bool
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		g, err := getGrant(ctx, tx, id)
		if err != nil {
			return err
		}
		m, ok, err := store.ActivatedMeta(g, a.Pending, a.Meta)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET pending = '', seal = ?, meta = ? WHERE id = ?`, a.Seal, m, id); err != nil {
			return err
		}
		done = true
		_, err = appendAudit(ctx, tx, a.Audit)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("activate grant: %w", err)
	}
	return done, nil
}

// SealGrants implements store.Store.
func (s *Store) SealGrants(ctx context.Context, seals map[string][]byte) (int, error) {
	if err := store.ValidateSeals(seals); err != nil {
		return 0, fmt.Errorf("seal grants: %w", err)
	}
	var sealed int
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		sealed = 0
		for id, seal := range seals {
			res, err := tx.ExecContext(ctx, `UPDATE grants SET seal = ? WHERE id = ? AND seal IS NULL`, seal, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				sealed++
			} else if _, err := getGrant(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal grants: %w", err)
	}
	return sealed, nil
}

// RecordAnomaly implements store.Store.
func (s *Store) RecordAnomaly(ctx context.Context, req store.AnomalyRequest) (store.Anomaly, bool, error) {
	a := req.Anomaly
	if err := a.Validate(); err != nil {
		return store.Anomaly{}, false, fmt.Errorf("record anomaly: %w", err)
	}
	if err := req.Audit.Validate(); err != nil {
		return store.Anomaly{}, false, fmt.Errorf("record anomaly: %w: %w", store.ErrInvalid, err)
	}
	if req.Suspend != nil {
		if err := req.Suspend.Validate(); err != nil {
			return store.Anomaly{}, false, fmt.Errorf("record anomaly: %w", err)
		}
	}
	records, err := json.Marshal(a.Records)
	if err != nil {
		return store.Anomaly{}, false, fmt.Errorf("record anomaly: %w", err)
	}
	var (
		out   store.Anomaly
		added bool
	)
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		prev, err := store.ScanAnomaly(tx.QueryRowContext(ctx, `SELECT `+store.AnomalyColumns+` FROM anomalies WHERE key_id = ? AND kind = ? AND trigger_seq = ?`,
			a.KeyID, a.Kind, a.Trigger()))
		if err == nil {
			out = prev
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rec, err := appendAudit(ctx, tx, req.Audit)
		if err != nil {
			return err
		}
		a.AuditSeq = rec.Seq
		_, err = tx.ExecContext(ctx, `INSERT INTO anomalies (`+store.AnomalyColumns+`, trigger_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.KeyID, a.Kind, a.Severity, ms(a.At), a.Summary, string(records), a.Response, a.AuditSeq, a.Trigger())
		if isDuplicate(err) {
			return fmt.Errorf("anomaly %q: %w", a.ID, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if req.Suspend != nil {
			if _, err := suspend(ctx, tx, a.KeyID, *req.Suspend); err != nil {
				return err
			}
		}
		out, added = a, true
		out.At = fromMS(ms(a.At))
		out.Records = append([]int64(nil), a.Records...)
		return nil
	})
	if err != nil {
		return store.Anomaly{}, false, fmt.Errorf("record anomaly: %w", err)
	}
	return out, added, nil
}

// ListAnomalies implements store.Store.
func (s *Store) ListAnomalies(ctx context.Context, f store.AnomalyFilter) ([]store.Anomaly, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list anomalies: %w: negative limit", store.ErrInvalid)
	}
	var where []string
	var args []any
	if f.KeyID != "" {
		where = append(where, "key_id = ?")
		args = append(args, f.KeyID)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ms(f.Since))
	}
	q := `SELECT ` + store.AnomalyColumns + ` FROM anomalies` + whereSQL(where) + ` ORDER BY at DESC, audit_seq DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, q, args, store.ScanAnomaly)
	if err != nil {
		return nil, fmt.Errorf("list anomalies: %w", err)
	}
	return out, nil
}
