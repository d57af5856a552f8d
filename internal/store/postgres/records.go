package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/store"
)

// PutKey implements store.Store.
func (s *Store) PutKey(ctx context.Context, k store.Key) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO keys (id, kind, address, sealed, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING`, k.ID, k.Kind, k.Address, k.Sealed, ms(k.CreatedAt))
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("key %q: %w", k.ID, store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	return nil
}

// GetKey implements store.Store.
func (s *Store) GetKey(ctx context.Context, id string) (store.Key, error) {
	k, err := store.ScanKey(s.pool.QueryRow(ctx, `SELECT `+store.KeyColumns+` FROM keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Key{}, fmt.Errorf("get key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("get key: %w", err)
	}
	return k, nil
}

// ListKeys implements store.Store.
func (s *Store) ListKeys(ctx context.Context) ([]store.Key, error) {
	out, err := queryAll(ctx, s.pool, `SELECT `+store.KeyColumns+` FROM keys ORDER BY created_at, id`, nil, store.ScanKey)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CreateGrant implements store.Store.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	args, err := store.GrantValues(g)
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	err = s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := signerKeyExists(ctx, tx, g.SignerKeyID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO grants (`+grantColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`, args...)
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("grant %q: %w", g.ID, store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

// signerKeyExists fails with ErrInvalid unless the key id is stored, and
// keeps the key from being deleted until tx ends.
func signerKeyExists(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM keys WHERE id = $1 FOR KEY SHARE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: signer key %q does not exist", store.ErrInvalid, id)
	}
	return err
}

const grantColumns = store.GrantColumns

func scanGrant(sc rowScanner) (store.Grant, error) {
	var (
		g                  store.Grant
		chains, meta       string
		policy             []byte
		created, expires   int64
		revoked, suspended *int64
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
	g.RevokedAt, g.SuspendedAt = optMS(revoked), optMS(suspended)
	return g, nil
}

// getGrant reads the grant id; with lock, it also locks its row until the
// transaction ends (the grant lock, taken before any nonce or the audit
// head).
func getGrant(ctx context.Context, q querier, id string, lock bool) (store.Grant, error) {
	query := `SELECT ` + grantColumns + ` FROM grants WHERE id = $1`
	if lock {
		query += ` FOR NO KEY UPDATE`
	}
	g, err := scanGrant(q.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Grant{}, fmt.Errorf("grant %q: %w", id, store.ErrNotFound)
	}
	return g, err
}

// GetGrant implements store.Store.
func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := getGrant(ctx, s.pool, id, false)
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
	var w where
	for _, c := range conds {
		w.add(c.SQL, c.Args...)
	}
	query := `SELECT ` + grantColumns + ` FROM grants` + w.sql() + order
	if f.Limit > 0 {
		query += ` LIMIT ` + w.next(f.Limit)
	}
	out, err := queryAll(ctx, s.pool, query, w.args, scanGrant)
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, ms(at), id)
		if err == nil && tag.RowsAffected() == 0 {
			return fmt.Errorf("grant %q: %w", id, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// RevokeAll implements store.Store. The grants are locked in id order, as
// ResetChain locks them, so the two never deadlock.
func (s *Store) RevokeAll(ctx context.Context, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, fmt.Errorf("revoke all: %w: zero time", store.ErrInvalid)
	}
	var n int64
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = $1 WHERE id IN
			(SELECT id FROM grants WHERE revoked_at IS NULL ORDER BY id FOR NO KEY UPDATE)`, ms(at))
		n = tag.RowsAffected()
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
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("set meta: %w", err)
	}
	return nil
}
