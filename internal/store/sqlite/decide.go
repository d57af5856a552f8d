package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// appendAudit chains r after the current head and moves the head, inside tx.
func appendAudit(ctx context.Context, tx *wtx, r audit.Record) (audit.Record, error) {
	if err := r.Validate(); err != nil {
		return audit.Record{}, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	var (
		seq  int64
		prev []byte
	)
	if h := tx.gc.head; h != nil {
		seq, prev = h.Seq, h.Hash
	} else if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &prev); err != nil {
		return audit.Record{}, fmt.Errorf("read audit head: %w", err)
	}
	r.Seq = seq + 1
	r = audit.Chain(prev, r)
	args, err := store.AuditValues(r)
	if err != nil {
		return audit.Record{}, err
	}
	if _, err := tx.ExecContext(ctx, insertAuditSQL, args...); err != nil {
		return audit.Record{}, fmt.Errorf("insert audit record: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return audit.Record{}, fmt.Errorf("move audit head: %w", err)
	}
	// Kept for the next record (the update above emptied the cache).
	tx.gc.head = &audit.Head{Seq: r.Seq, Hash: r.Hash}
	return r, nil
}

var insertAuditSQL = `INSERT INTO audit_records (` + store.AuditColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error) {
	var out audit.Record
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		var err error
		out, err = appendAudit(ctx, tx, r)
		return err
	})
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit: %w", err)
	}
	return out, nil
}

// AuditRecords implements store.Store.
func (s *Store) AuditRecords(ctx context.Context, afterSeq int64, limit int) ([]audit.Record, error) {
	if limit < 1 || afterSeq < 0 {
		return nil, fmt.Errorf("audit records: %w: need limit >= 1 and afterSeq >= 0", store.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT
		seq, time, key_id, method, call, decision, reasons, tx_hash, caller_ip, request_id, user_agent, prev_hash, hash
		FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	defer rows.Close()
	out := []audit.Record{}
	for rows.Next() {
		var (
			r       audit.Record
			t       int64
			call    []byte
			reasons string
		)
		if err := rows.Scan(&r.Seq, &t, &r.KeyID, &r.Method, &call, &r.Decision, &reasons, &r.TxHash,
			&r.CallerIP, &r.RequestID, &r.UserAgent, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("audit records: %w", err)
		}
		r.Time = fromMS(t)
		if len(call) > 0 {
			r.Call = json.RawMessage(call)
		}
		r.Reasons = store.DecodeReasons(reasons)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	return out, nil
}

// AuditHead implements store.Store.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash); err != nil {
		return audit.Head{}, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

// KeyUsage implements store.Store. Both queries use the audit_records
// (key_id, time) index.
func (s *Store) KeyUsage(ctx context.Context, keyID string, since time.Time) (store.KeyUsage, error) {
	if keyID == "" {
		return store.KeyUsage{}, fmt.Errorf("key usage: %w: empty key id", store.ErrInvalid)
	}
	var u store.KeyUsage
	var t int64
	err := s.r.QueryRowContext(ctx, `SELECT time, caller_ip, user_agent, decision FROM audit_records
		WHERE key_id = ? ORDER BY time DESC, seq DESC LIMIT 1`, keyID).Scan(&t, &u.LastIP, &u.LastUserAgent, &u.LastDecision)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.KeyUsage{}, nil
	case err != nil:
		return store.KeyUsage{}, fmt.Errorf("key usage: %w", err)
	}
	u.LastUsed = fromMS(t)
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(decision = ?), 0) FROM audit_records
		WHERE key_id = ? AND time >= ?`, audit.DecisionDeny, keyID, ms(since)).Scan(&u.Requests, &u.Denied); err != nil {
		return store.KeyUsage{}, fmt.Errorf("key usage: %w", err)
	}
	return u, nil
}

// Decide implements store.Store.
func (s *Store) Decide(ctx context.Context, grantID string, fn func(ctx context.Context, tx store.DecideTx) error) error {
	err := s.inTx(ctx, &grantID, func(ctx context.Context, d *decideTx) error { return fn(ctx, d) })
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	return nil
}

// Owner implements store.Store.
func (s *Store) Owner(ctx context.Context, fn func(ctx context.Context, tx store.OwnerTx) error) error {
	err := s.inTx(ctx, nil, func(ctx context.Context, d *decideTx) error { return fn(ctx, d) })
	if err != nil {
		return fmt.Errorf("owner transaction: %w", err)
	}
	return nil
}

// inTx runs fn as one write job (one IMMEDIATE transaction, or a
// savepoint in a group commit), on the grant with *grantID, or for the
// owner when grantID is nil.
func (s *Store) inTx(ctx context.Context, grantID *string, fn func(ctx context.Context, d *decideTx) error) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		dtx := &decideTx{tx: tx, owner: grantID == nil}
		defer dtx.guard.End()
		if grantID != nil {
			var err error
			if dtx.grant, err = tx.grant(ctx, *grantID); err != nil {
				return err
			}
		}
		return fn(ctx, dtx)
	})
}

// decideTx is store.DecideTx (and, with owner set, store.OwnerTx, which
// uses only its nonce and audit methods) on an open transaction.
type decideTx struct {
	guard store.TxGuard
	tx    *wtx
	grant store.Grant
	owner bool // an Owner transaction: no grant, audit records keep their KeyID
}

var (
	_ store.DecideTx = (*decideTx)(nil)
	_ store.OwnerTx  = (*decideTx)(nil)
)

func (d *decideTx) Grant() store.Grant { return d.grant.Clone() }

func (d *decideTx) Spent(ctx context.Context, asset string, periodStart time.Time) (store.Charged, error) {
	a, err := store.NormalizeAsset(asset)
	if err != nil {
		return store.Charged{}, fmt.Errorf("spent: %w", err)
	}
	if err := d.guard.Enter(); err != nil {
		return store.Charged{}, fmt.Errorf("spent: %w", err)
	}
	defer d.guard.Leave()
	c, err := charged(ctx, d.tx, d.grant.ID, a, ms(periodStart))
	if err != nil {
		return store.Charged{}, fmt.Errorf("spent: %w", err)
	}
	return c, nil
}

func (d *decideTx) Requests(ctx context.Context, since time.Time, atMost int) (int, error) {
	if atMost < 1 {
		return 0, fmt.Errorf("requests: %w: count at most %d", store.ErrInvalid, atMost)
	}
	if err := d.guard.Enter(); err != nil {
		return 0, fmt.Errorf("requests: %w", err)
	}
	defer d.guard.Leave()
	var n int
	if err := d.tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM (SELECT 1 FROM audit_records WHERE key_id = ? AND time >= ? LIMIT ?)`, d.grant.ID, ms(since), atMost).Scan(&n); err != nil {
		return 0, fmt.Errorf("requests: %w", err)
	}
	return n, nil
}

func (d *decideTx) Reserve(ctx context.Context, at time.Time, spends []store.Spend) error {
	if err := d.reserve(ctx, at, "", stateSpent, spends); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	return nil
}

func (d *decideTx) ReserveTx(ctx context.Context, at time.Time, txHash string, spends []store.Spend) error {
	hash, err := store.NormalizeTxHash(txHash)
	if err != nil {
		return fmt.Errorf("reserve tx: %w", err)
	}
	if err := d.reserve(ctx, at, hash, statePending, spends); err != nil {
		return fmt.Errorf("reserve tx: %w", err)
	}
	return nil
}

func (d *decideTx) reserve(ctx context.Context, at time.Time, hash, state string, spends []store.Spend) error {
	assets, err := store.ReserveAssets(at, spends, hash != "")
	if err != nil {
		return err
	}
	if err := d.guard.Enter(); err != nil {
		return err
	}
	defer d.guard.Leave()
	if hash != "" {
		var other string
		err := d.tx.QueryRowContext(ctx, `SELECT grant_id FROM reservations WHERE tx_hash = ? AND grant_id <> ? LIMIT 1`, hash, d.grant.ID).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w: grant %q already reserved for transaction %s", store.ErrConflict, other, hash)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return reserve(ctx, d.tx, d.grant.ID, ms(at), hash, state, assets, spends)
}

func (d *decideTx) NextNonce(ctx context.Context, chainID uint64, address string, floor uint64) (uint64, error) {
	addr, err := store.NonceArgs(chainID, address, floor)
	if err != nil {
		return 0, fmt.Errorf("next nonce: %w", err)
	}
	if err := d.guard.Enter(); err != nil {
		return 0, fmt.Errorf("next nonce: %w", err)
	}
	defer d.guard.Leave()
	// One statement: the nonce handed out is max(stored next, floor)
	// (store.NextNonceFrom), and next moves one past it. At the end of the
	// nonce space the update does not apply and returns no row.
	var n int64
	err = d.tx.QueryRowContext(ctx, `INSERT INTO nonces (chain_id, address, next) VALUES (?, ?, ?)
		ON CONFLICT (chain_id, address) DO UPDATE SET next = max(next, excluded.next - 1) + 1 WHERE next < 9223372036854775807
		RETURNING next - 1`, int64(chainID), addr, int64(floor)+1).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = store.NextNonceFrom(math.MaxInt64, floor)
	}
	if err != nil {
		return 0, fmt.Errorf("next nonce: %w", err)
	}
	return uint64(n), nil
}

func (d *decideTx) AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error) {
	r, err := store.DecisionRecord(r, d.grant.ID, d.owner)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit: %w", err)
	}
	if err := d.guard.Enter(); err != nil {
		return audit.Record{}, fmt.Errorf("append audit: %w", err)
	}
	defer d.guard.Leave()
	out, err := appendAudit(ctx, d.tx, r)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit: %w", err)
	}
	return out, nil
}
