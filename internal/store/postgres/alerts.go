package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/store"
)

// PutAlertHook implements store.Store.
func (s *Store) PutAlertHook(ctx context.Context, h store.AlertHook) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("put alert hook: %w", err)
	}
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO alert_hooks (`+store.HookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			h.ID, h.Name, h.URLShown, h.SealedURL, h.SealedSecret, h.MinSeverity, ms(h.CreatedAt))
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("alert hook %q: %w", h.ID, store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("put alert hook: %w", err)
	}
	return nil
}

// GetAlertHook implements store.Store.
func (s *Store) GetAlertHook(ctx context.Context, id string) (store.AlertHook, error) {
	h, err := store.ScanHook(s.pool.QueryRow(ctx, `SELECT `+store.HookColumns+` FROM alert_hooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AlertHook{}, fmt.Errorf("get alert hook %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.AlertHook{}, fmt.Errorf("get alert hook: %w", err)
	}
	return h, nil
}

// ListAlertHooks implements store.Store.
func (s *Store) ListAlertHooks(ctx context.Context) ([]store.AlertHook, error) {
	out, err := queryAll(ctx, s.pool, `SELECT `+store.HookColumns+` FROM alert_hooks ORDER BY created_at, id`, nil, store.ScanHook)
	if err != nil {
		return nil, fmt.Errorf("list alert hooks: %w", err)
	}
	return out, nil
}

// DeleteAlertHook implements store.Store.
func (s *Store) DeleteAlertHook(ctx context.Context, id string) error {
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alert_deliveries WHERE hook_id = $1`, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM alert_hooks WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("alert hook %q: %w", id, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete alert hook: %w", err)
	}
	return nil
}

// insertDelivery stores a validated delivery; anomaly seq 0 is stored as
// NULL (a test delivery). A (hook, anomaly) pair already stored is skipped
// (ON CONFLICT, so the transaction stays usable).
func insertDelivery(ctx context.Context, tx pgx.Tx, d store.AlertDelivery) error {
	var seq *int64
	if d.AnomalySeq > 0 {
		seq = &d.AnomalySeq
	}
	var taken int
	switch err := tx.QueryRow(ctx, `SELECT 1 FROM alert_deliveries WHERE id = $1`, d.ID).Scan(&taken); {
	case err == nil:
		return fmt.Errorf("alert delivery %q: %w", d.ID, store.ErrConflict)
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO alert_deliveries (`+store.DeliveryColumns+`)
		VALUES ($1, $2, $3, $4, $5, 0, $6, 0, '', $7, $8)
		ON CONFLICT (hook_id, anomaly_seq) WHERE anomaly_seq IS NOT NULL DO NOTHING`,
		d.ID, d.HookID, seq, []byte(d.Body), store.DeliveryPending, ms(d.NextAttemptAt), ms(d.CreatedAt), ms(d.CreatedAt))
	switch pgCode(err) {
	case codeForeignKeyViolation:
		return fmt.Errorf("alert hook %q: %w", d.HookID, store.ErrNotFound)
	case codeUniqueViolation:
		return fmt.Errorf("alert delivery %q: %w", d.ID, store.ErrConflict)
	}
	return err
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		fresh = false
		tag, err := tx.Exec(ctx, `INSERT INTO alerted_anomalies (seq) VALUES ($1) ON CONFLICT DO NOTHING`, anomalySeq)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		fresh = true
		for _, d := range ds {
			if err := insertDelivery(ctx, tx, d); err != nil {
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error { return insertDelivery(ctx, tx, d) })
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
	out, err := queryAll(ctx, s.pool, `SELECT `+store.DeliveryColumns+` FROM alert_deliveries
		WHERE state = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at, created_at, id LIMIT $3`,
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		cur, err := store.ScanDelivery(tx.QueryRow(ctx, `SELECT `+store.DeliveryColumns+` FROM alert_deliveries WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
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
		out, err = store.ScanDelivery(tx.QueryRow(ctx, `UPDATE alert_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2,
			last_status = $3, last_error = $4, updated_at = $5 WHERE id = $6 RETURNING `+store.DeliveryColumns,
			a.State, ms(next), a.Status, a.Error, ms(a.At), id))
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
	var w where
	if f.HookID != "" {
		w.add("hook_id = ?", f.HookID)
	}
	if f.State != "" {
		w.add("state = ?", f.State)
	}
	q := `SELECT ` + store.DeliveryColumns + ` FROM alert_deliveries` + w.sql() + ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + w.next(f.Limit)
	}
	out, err := queryAll(ctx, s.pool, q, w.args, store.ScanDelivery)
	if err != nil {
		return nil, fmt.Errorf("list alert deliveries: %w", err)
	}
	return out, nil
}
