package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentkeys/agentkeys/internal/store"
)

// PutAlertHook implements store.Store.
func (s *Store) PutAlertHook(ctx context.Context, h store.AlertHook) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("put alert hook: %w", err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO alert_hooks (`+store.HookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			h.ID, h.Name, h.URLShown, h.SealedURL, h.SealedSecret, h.MinSeverity, ms(h.CreatedAt))
		return err
	})
	if isDuplicate(err) {
		return fmt.Errorf("put alert hook %q: %w", h.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put alert hook: %w", err)
	}
	return nil
}

// GetAlertHook implements store.Store.
func (s *Store) GetAlertHook(ctx context.Context, id string) (store.AlertHook, error) {
	h, err := store.ScanHook(s.r.QueryRowContext(ctx, `SELECT `+store.HookColumns+` FROM alert_hooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AlertHook{}, fmt.Errorf("get alert hook %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.AlertHook{}, fmt.Errorf("get alert hook: %w", err)
	}
	return h, nil
}

// ListAlertHooks implements store.Store.
func (s *Store) ListAlertHooks(ctx context.Context) ([]store.AlertHook, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+store.HookColumns+` FROM alert_hooks ORDER BY created_at, id`, nil, store.ScanHook)
	if err != nil {
		return nil, fmt.Errorf("list alert hooks: %w", err)
	}
	return out, nil
}

// DeleteAlertHook implements store.Store.
func (s *Store) DeleteAlertHook(ctx context.Context, id string) error {
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_deliveries WHERE hook_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM alert_hooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("alert hook %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete alert hook: %w", err)
	}
	return nil
}

// insertDelivery stores a validated delivery; anomaly seq 0 is stored as
// NULL (a test delivery). It reports false for a (hook, anomaly) pair
// already stored.
func insertDelivery(ctx context.Context, tx *wtx, d store.AlertDelivery) (bool, error) {
	var seq any
	if d.AnomalySeq > 0 {
		seq = d.AnomalySeq
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (`+store.DeliveryColumns+`)
		VALUES (?, ?, ?, ?, ?, 0, ?, 0, '', ?, ?)`,
		d.ID, d.HookID, seq, []byte(d.Body), store.DeliveryPending, ms(d.NextAttemptAt), ms(d.CreatedAt), ms(d.CreatedAt))
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
		return false, fmt.Errorf("alert hook %q: %w", d.HookID, store.ErrNotFound)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return false, fmt.Errorf("alert delivery %q: %w", d.ID, store.ErrConflict)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// RecordAlert implements store.Store.
func (s *Store) RecordAlert(ctx context.Context, anomalySeq int64, ds []store.AlertDelivery) (bool, error) {
	if anomalySeq < 1 {
		return false, fmt.Errorf("record alert: %w: anomaly seq %d is not a record's", store.ErrInvalid, anomalySeq)
	}
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			return false, fmt.Errorf("record alert: %w", err)
		}
		if d.AnomalySeq != anomalySeq {
			return false, fmt.Errorf("record alert: %w: delivery %q names anomaly %d, not %d", store.ErrInvalid, d.ID, d.AnomalySeq, anomalySeq)
		}
	}
	fresh := false
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerted_anomalies (seq) VALUES (?) ON CONFLICT DO NOTHING`, anomalySeq)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		fresh = true
		for _, d := range ds {
			if _, err := insertDelivery(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record alert: %w", err)
	}
	return fresh, nil
}

// AddAlertDelivery implements store.Store.
func (s *Store) AddAlertDelivery(ctx context.Context, d store.AlertDelivery) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("add alert delivery: %w", err)
	}
	if d.AnomalySeq != 0 {
		return fmt.Errorf("add alert delivery: %w: only test deliveries (anomaly seq 0) are added alone", store.ErrInvalid)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := insertDelivery(ctx, tx, d)
		return err
	})
	if err != nil {
		return fmt.Errorf("add alert delivery: %w", err)
	}
	return nil
}

// DueAlertDeliveries implements store.Store.
func (s *Store) DueAlertDeliveries(ctx context.Context, at time.Time, limit int) ([]store.AlertDelivery, error) {
	if limit < 1 {
		return nil, fmt.Errorf("due alert deliveries: %w: limit %d", store.ErrInvalid, limit)
	}
	out, err := queryAll(ctx, s.r, `SELECT `+store.DeliveryColumns+` FROM alert_deliveries
		WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?`,
		[]any{store.DeliveryPending, ms(at), limit}, store.ScanDelivery)
	if err != nil {
		return nil, fmt.Errorf("due alert deliveries: %w", err)
	}
	return out, nil
}

// UpdateAlertDelivery implements store.Store.
func (s *Store) UpdateAlertDelivery(ctx context.Context, id string, a store.AlertAttempt) (store.AlertDelivery, error) {
	if err := a.Validate(); err != nil {
		return store.AlertDelivery{}, fmt.Errorf("update alert delivery: %w", err)
	}
	var out store.AlertDelivery
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		cur, err := store.ScanDelivery(tx.QueryRowContext(ctx, `SELECT `+store.DeliveryColumns+` FROM alert_deliveries WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alert delivery %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur.State != store.DeliveryPending {
			return fmt.Errorf("%w: alert delivery %q is already %s", store.ErrConflict, id, cur.State)
		}
		next := cur.NextAttemptAt
		if a.State == store.DeliveryPending {
			next = a.NextAttemptAt
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?,
			last_status = ?, last_error = ?, updated_at = ? WHERE id = ?`,
			a.State, ms(next), a.Status, a.Error, ms(a.At), id); err != nil {
			return err
		}
		out, err = store.ScanDelivery(tx.QueryRowContext(ctx, `SELECT `+store.DeliveryColumns+` FROM alert_deliveries WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return store.AlertDelivery{}, fmt.Errorf("update alert delivery: %w", err)
	}
	return out, nil
}

// ListAlertDeliveries implements store.Store.
func (s *Store) ListAlertDeliveries(ctx context.Context, f store.AlertDeliveryFilter) ([]store.AlertDelivery, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list alert deliveries: %w", err)
	}
	var where []string
	var args []any
	if f.HookID != "" {
		where, args = append(where, "hook_id = ?"), append(args, f.HookID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	q := `SELECT ` + store.DeliveryColumns + ` FROM alert_deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, q, args, store.ScanDelivery)
	if err != nil {
		return nil, fmt.Errorf("list alert deliveries: %w", err)
	}
	return out, nil
}
