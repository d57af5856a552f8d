package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentkeys/agentkeys/internal/store"
)

// ms converts a time to the stored form: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// PutKey implements store.Store.
func (s *Store) PutKey(ctx context.Context, k store.Key) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO keys (id, kind, address, sealed, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.ID, k.Kind, k.Address, k.Sealed, ms(k.CreatedAt))
		return err
	})
	if isDuplicate(err) {
		return fmt.Errorf("put key %q: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	return nil
}

// GetKey implements store.Store.
func (s *Store) GetKey(ctx context.Context, id string) (store.Key, error) {
	k, err := store.ScanKey(s.r.QueryRowContext(ctx, `SELECT `+store.KeyColumns+` FROM keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Key{}, fmt.Errorf("get key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("get key: %w", err)
	}
	return k, nil
}

// ListKeys implements store.Store.
func (s *Store) ListKeys(ctx context.Context) ([]store.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+store.KeyColumns+` FROM keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []store.Key
	for rows.Next() {
		k, err := store.ScanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// CreateGrant implements store.Store.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	args, err := store.GrantValues(g)
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := signerKeyExists(ctx, tx, g.SignerKeyID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, insertGrantSQL, args...)
		return err
	})
	if isDuplicate(err) {
		return fmt.Errorf("create grant %q: %w", g.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

var insertGrantSQL = `INSERT INTO grants (` + store.GrantColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// signerKeyExists fails with ErrInvalid unless the key id is stored.
func signerKeyExists(ctx context.Context, tx *wtx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM keys WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: signer key %q does not exist", store.ErrInvalid, id)
	}
	return err
}

const grantColumns = store.GrantColumns

func scanGrant(sc rowScanner) (store.Grant, error) {
	var (
		g                store.Grant
		chains, meta     string
		policy           []byte
		created, expires int64
		revoked          sql.NullInt64
		suspended        sql.NullInt64
	)
	if err := sc.Scan(&g.ID, &g.Agent, &g.Mode, &chains, &policy, &g.Address, &g.SignerKeyID,
		&g.CredentialHash, &created, &expires, &revoked, &meta, &suspended, &g.SuspendReason, &g.Pending, &g.Seal); err != nil {
		return store.Grant{}, err
	}
	if err := store.DecodeGrantJSON(&g, chains, meta); err != nil {
		return store.Grant{}, err
	}
	if len(policy) > 0 {
		g.Policy = json.RawMessage(policy)
	}
	g.CreatedAt, g.ExpiresAt = fromMS(created), fromMS(expires)
	if revoked.Valid {
		t := fromMS(revoked.Int64)
		g.RevokedAt = &t
	}
	if suspended.Valid {
		t := fromMS(suspended.Int64)
		g.SuspendedAt = &t
	}
	return g, nil
}

func getGrant(ctx context.Context, q querier, id string) (store.Grant, error) {
	g, err := scanGrant(q.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Grant{}, fmt.Errorf("grant %q: %w", id, store.ErrNotFound)
	}
	return g, err
}

// GetGrant implements store.Store.
func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := getGrant(ctx, s.r, id)
	if err != nil {
		return store.Grant{}, fmt.Errorf("get grant: %w", err)
	}
	return g, nil
}

// ListGrants implements store.Store.
func (s *Store) ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	conds, order := store.GrantConds(f)
	var where []string
	var args []any
	for _, c := range conds {
		where = append(where, c.SQL)
		args = append(args, c.Args...)
	}
	query := `SELECT ` + grantColumns + ` FROM grants` + whereSQL(where) + order
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, query, args, scanGrant)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return out, nil
}

// RevokeGrant implements store.Store.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("revoke grant: %w: zero time", store.ErrInvalid)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, ms(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("grant %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// RevokeAll implements store.Store.
func (s *Store) RevokeAll(ctx context.Context, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("revoke all: %w: zero time", store.ErrInvalid)
	}
	var n int64
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ? WHERE revoked_at IS NULL`, ms(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke all: %w", err)
	}
	return int(n), nil
}

// GetMeta implements store.Store.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("get meta %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get meta: %w", err)
	}
	return v, nil
}

// SetMeta implements store.Store.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("set meta: %w: empty key", store.ErrInvalid)
	}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("set meta: %w", err)
	}
	return nil
}
