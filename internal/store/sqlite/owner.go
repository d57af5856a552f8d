package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// AddPasskey implements store.Store.
func (s *Store) AddPasskey(ctx context.Context, p store.Passkey, a audit.Record) (store.Passkey, error) {
	if err := p.Validate(); err != nil {
		return store.Passkey{}, fmt.Errorf("add passkey: %w", err)
	}
	if err := a.Validate(); err != nil {
		return store.Passkey{}, fmt.Errorf("add passkey: %w: %w", store.ErrInvalid, err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := appendAudit(ctx, tx, a)
		if err != nil {
			return err
		}
		p.AuditSeq = r.Seq
		_, err = tx.ExecContext(ctx, `INSERT INTO owner_passkeys (`+store.PasskeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.CredentialID, p.PublicKey, string(p.Credential), ms(p.CreatedAt), p.AuditSeq)
		return err
	})
	if isDuplicate(err) {
		return store.Passkey{}, fmt.Errorf("add passkey %q: %w", p.ID, store.ErrConflict)
	}
	if err != nil {
		return store.Passkey{}, fmt.Errorf("add passkey: %w", err)
	}
	p.CreatedAt = fromMS(ms(p.CreatedAt))
	return p, nil
}

// ListPasskeys implements store.Store.
func (s *Store) ListPasskeys(ctx context.Context) ([]store.Passkey, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+store.PasskeyColumns+` FROM owner_passkeys ORDER BY created_at, id`, nil, store.ScanPasskey)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return out, nil
}

// RemovePasskey implements store.Store.
func (s *Store) RemovePasskey(ctx context.Context, id string, a audit.Record) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("remove passkey: %w: %w", store.ErrInvalid, err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM owner_passkeys WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("passkey %q: %w", id, store.ErrNotFound)
		}
		_, err = appendAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	return nil
}

// PutEnrollment implements store.Store.
func (s *Store) PutEnrollment(ctx context.Context, e store.Enrollment) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("put enrollment: %w", err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO passkey_enrollments (token_hash, created_at, expires_at) VALUES (?, ?, ?)`,
			e.TokenHash, ms(e.CreatedAt), ms(e.ExpiresAt))
		return err
	})
	if isDuplicate(err) {
		return fmt.Errorf("put enrollment: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put enrollment: %w", err)
	}
	return nil
}

// CheckEnrollment implements store.Store.
func (s *Store) CheckEnrollment(ctx context.Context, tokenHash []byte, at time.Time) (store.Enrollment, error) {
	e := store.Enrollment{TokenHash: append([]byte(nil), tokenHash...)}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT created_at, expires_at, ceremony FROM passkey_enrollments
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, tokenHash, ms(at)).Scan(&created, &expires, &e.Ceremony)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Enrollment{}, fmt.Errorf("enrollment: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Enrollment{}, fmt.Errorf("check enrollment: %w", err)
	}
	e.CreatedAt, e.ExpiresAt = fromMS(created), fromMS(expires)
	return e, nil
}

// BeginEnrollment implements store.Store.
func (s *Store) BeginEnrollment(ctx context.Context, tokenHash, ceremony []byte, at time.Time) error {
	if len(ceremony) == 0 {
		return fmt.Errorf("begin enrollment: %w: no ceremony", store.ErrInvalid)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkey_enrollments SET ceremony = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, ceremony, tokenHash, ms(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("enrollment: %w", store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("begin enrollment: %w", err)
	}
	return nil
}

// UseEnrollment implements store.Store.
func (s *Store) UseEnrollment(ctx context.Context, tokenHash []byte, at time.Time) error {
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkey_enrollments SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, ms(at), tokenHash, ms(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("enrollment: %w", store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("use enrollment: %w", err)
	}
	return nil
}

// CreateChange implements store.Store.
func (s *Store) CreateChange(ctx context.Context, c store.Change, a audit.Record) error {
	if err := store.ValidateNewChange(c, a); err != nil {
		return fmt.Errorf("create change: %w", err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO owner_changes (`+store.ChangeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, '')`,
			c.ID, c.Kind, c.KeyID, string(c.Body), c.Nonce, c.State, ms(c.CreatedAt), ms(c.ExpiresAt)); err != nil {
			return err
		}
		_, err := appendAudit(ctx, tx, a)
		return err
	})
	if isDuplicate(err) {
		return fmt.Errorf("create change %q: %w", c.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create change: %w", err)
	}
	return nil
}

// GetChange implements store.Store.
func (s *Store) GetChange(ctx context.Context, id string) (store.Change, error) {
	c, err := store.ScanChange(s.r.QueryRowContext(ctx, `SELECT `+store.ChangeColumns+` FROM owner_changes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Change{}, fmt.Errorf("get change %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Change{}, fmt.Errorf("get change: %w", err)
	}
	return c, nil
}

// ListChanges implements store.Store.
func (s *Store) ListChanges(ctx context.Context, f store.ChangeFilter) ([]store.Change, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	q := `SELECT ` + store.ChangeColumns + ` FROM owner_changes`
	var args []any
	if f.State != "" {
		q += ` WHERE state = ?`
		args = append(args, f.State)
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, q, args, store.ScanChange)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	return out, nil
}

// SettleChange implements store.Store.
func (s *Store) SettleChange(ctx context.Context, id string, st store.ChangeSettlement) (bool, error) {
	if err := st.Validate(); err != nil {
		return false, fmt.Errorf("settle change: %w", err)
	}
	var done bool
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM owner_changes WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("change %q: %w", id, store.ErrNotFound)
		}
		if err != nil || state != store.ChangePending {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE owner_changes SET state = ?, decided_at = ?, detail = ? WHERE id = ? AND state = ?`,
			st.To, ms(st.At), st.Detail, id, store.ChangePending); err != nil {
			return err
		}
		done = true
		if st.Audit != nil {
			_, err = appendAudit(ctx, tx, *st.Audit)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("settle change: %w", err)
	}
	return done, nil
}
