package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

const txColumns = `hash, chain_id, sender, nonce, grant_id, kind, send, cancels, raw, state,
	block_number, receipt_status, replaced_by, cancelled_by, created_at, updated_at, broadcast_at`

// insertTx stores a validated record in state signed.
func insertTx(ctx context.Context, tx *wtx, r store.TxRecord) error {
	hash, _ := store.NormalizeHash(r.Hash)
	sender, _ := store.NormalizeAddress(r.Sender)
	cancels := strings.ToLower(r.Cancels)
	send := 0
	if r.Send {
		send = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO transactions (`+txColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, '', '', ?, ?, NULL)`,
		hash, int64(r.ChainID), sender, int64(r.Nonce), r.GrantID, r.Kind, send, cancels, r.Raw, store.TxSigned,
		ms(r.CreatedAt), ms(r.CreatedAt))
	if isDuplicate(err) {
		return fmt.Errorf("%w: transaction %s is already recorded", store.ErrConflict, hash)
	}
	return err
}

func (d *decideTx) RecordTx(ctx context.Context, r store.TxRecord) error {
	if err := store.DecisionTx(r, d.grant.ID); err != nil {
		return fmt.Errorf("record tx: %w", err)
	}
	if err := d.guard.Enter(); err != nil {
		return fmt.Errorf("record tx: %w", err)
	}
	defer d.guard.Leave()
	if err := insertTx(ctx, d.tx, r); err != nil {
		return fmt.Errorf("record tx: %w", err)
	}
	return nil
}

// RecordTx implements store.Store.
func (s *Store) RecordTx(ctx context.Context, r store.TxRecord, a audit.Record) (audit.Record, error) {
	if err := r.Validate(); err != nil {
		return audit.Record{}, fmt.Errorf("record tx: %w", err)
	}
	if err := a.Validate(); err != nil {
		return audit.Record{}, fmt.Errorf("record tx: %w: %w", store.ErrInvalid, err)
	}
	var out audit.Record
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		if r.Kind == store.TxKindCancel {
			orig, err := getTx(ctx, tx, strings.ToLower(r.Cancels))
			if err != nil {
				return err
			}
			sender, _ := store.NormalizeAddress(r.Sender)
			switch {
			case store.TxFinal(orig.State):
				return fmt.Errorf("%w: transaction %s is already %s", store.ErrConflict, orig.Hash, orig.State)
			case orig.CancelledBy != "":
				return fmt.Errorf("%w: transaction %s is already being cancelled by %s", store.ErrConflict, orig.Hash, orig.CancelledBy)
			case orig.ChainID != r.ChainID || orig.Sender != sender || orig.Nonce != r.Nonce:
				return fmt.Errorf("%w: a cancel must have the chain, sender and nonce of the transaction it cancels", store.ErrInvalid)
			}
		}
		if err := insertTx(ctx, tx, r); err != nil {
			return err
		}
		if r.Kind == store.TxKindCancel {
			hash, _ := store.NormalizeHash(r.Hash)
			if _, err := tx.ExecContext(ctx, `UPDATE transactions SET cancelled_by = ?, updated_at = ? WHERE hash = ?`,
				hash, ms(r.CreatedAt), strings.ToLower(r.Cancels)); err != nil {
				return err
			}
		}
		var err error
		out, err = appendAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return audit.Record{}, fmt.Errorf("record tx: %w", err)
	}
	return out, nil
}

// UpdateTx implements store.Store.
func (s *Store) UpdateTx(ctx context.Context, hash string, u store.TxUpdate) (store.TxRecord, error) {
	h, err := store.NormalizeHash(hash)
	if err != nil {
		return store.TxRecord{}, fmt.Errorf("update tx: %w", err)
	}
	if err := u.Validate(); err != nil {
		return store.TxRecord{}, fmt.Errorf("update tx: %w", err)
	}
	var out store.TxRecord
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		cur, err := getTx(ctx, tx, h)
		if err != nil {
			return err
		}
		if store.TxFinal(cur.State) {
			return fmt.Errorf("%w: transaction %s is already %s; a final state never changes", store.ErrConflict, h, cur.State)
		}
		cancelledBy := strings.ToLower(u.CancelledBy)
		if cancelledBy != "" && cur.CancelledBy != "" && cancelledBy != cur.CancelledBy {
			return fmt.Errorf("%w: transaction %s was cancelled by %s, not %s", store.ErrInvalid, h, cur.CancelledBy, cancelledBy)
		}
		if cancelledBy == "" {
			cancelledBy = cur.CancelledBy
		}
		var block, status any
		if u.State == store.TxIncluded {
			block, status = int64(u.Block), int64(u.Status)
		}
		broadcastAt := any(nil)
		if cur.BroadcastAt != nil {
			broadcastAt = ms(*cur.BroadcastAt)
		}
		if u.State == store.TxBroadcast {
			broadcastAt = ms(u.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transactions SET state = ?, block_number = ?, receipt_status = ?,
			replaced_by = ?, cancelled_by = ?, updated_at = ?, broadcast_at = ? WHERE hash = ?`,
			u.State, block, status, strings.ToLower(u.ReplacedBy), cancelledBy, ms(u.At), broadcastAt, h); err != nil {
			return err
		}
		out, err = getTx(ctx, tx, h)
		return err
	})
	if err != nil {
		return store.TxRecord{}, fmt.Errorf("update tx: %w", err)
	}
	return out, nil
}

// GetTx implements store.Store.
func (s *Store) GetTx(ctx context.Context, hash string) (store.TxRecord, error) {
	h, err := store.NormalizeHash(hash)
	if err != nil {
		return store.TxRecord{}, fmt.Errorf("get tx: %w", err)
	}
	r, err := getTx(ctx, s.r, h)
	if err != nil {
		return store.TxRecord{}, fmt.Errorf("get tx: %w", err)
	}
	return r, nil
}

func getTx(ctx context.Context, q querier, hash string) (store.TxRecord, error) {
	r, err := scanTx(q.QueryRowContext(ctx, `SELECT `+txColumns+` FROM transactions WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.TxRecord{}, fmt.Errorf("%w: transaction %s", store.ErrNotFound, hash)
	}
	return r, err
}

// CountTxs implements store.Store.
func (s *Store) CountTxs(ctx context.Context, chainID uint64) (map[string]int, error) {
	if chainID == 0 || chainID > math.MaxInt64 {
		return nil, fmt.Errorf("count txs: %w: chain id %d", store.ErrInvalid, chainID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM transactions WHERE chain_id = ? GROUP BY state`, int64(chainID))
	if err != nil {
		return nil, fmt.Errorf("count txs: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count txs: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count txs: %w", err)
	}
	return out, nil
}

// ListTxs implements store.Store.
func (s *Store) ListTxs(ctx context.Context, f store.TxFilter) ([]store.TxRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list txs: %w", err)
	}
	var (
		where []string
		args  []any
	)
	if f.GrantID != "" {
		where, args = append(where, "grant_id = ?"), append(args, f.GrantID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.NonFinal {
		where = append(where, "state IN ('signed', 'broadcast')")
	}
	if f.Sender != "" {
		where, args = append(where, "sender = ?"), append(args, strings.ToLower(f.Sender))
	}
	if f.ChainID != 0 {
		where, args = append(where, "chain_id = ?"), append(args, int64(f.ChainID))
	}
	if f.MinNonce != 0 {
		where, args = append(where, "nonce >= ?"), append(args, int64(f.MinNonce))
	}
	q := `SELECT ` + txColumns + ` FROM transactions` + whereSQL(where) + ` ORDER BY created_at, nonce, hash`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.r, q, args, scanTx)
	if err != nil {
		return nil, fmt.Errorf("list txs: %w", err)
	}
	return out, nil
}

// Nonces implements store.Store.
func (s *Store) Nonces(ctx context.Context, chainID uint64) ([]store.NonceCounter, error) {
	if chainID == 0 || chainID > math.MaxInt64 {
		return nil, fmt.Errorf("nonces: %w: chain id %d out of range", store.ErrInvalid, chainID)
	}
	out, err := readNonces(ctx, s.r, chainID)
	if err != nil {
		return nil, fmt.Errorf("nonces: %w", err)
	}
	return out, nil
}

// readNonces lists the nonce counters of chainID, ordered by address.
func readNonces(ctx context.Context, q querier, chainID uint64) ([]store.NonceCounter, error) {
	rows, err := q.QueryContext(ctx, `SELECT address, next FROM nonces WHERE chain_id = ? ORDER BY address`, int64(chainID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.NonceCounter{}
	for rows.Next() {
		var (
			c    store.NonceCounter
			next int64
		)
		if err := rows.Scan(&c.Address, &next); err != nil {
			return nil, err
		}
		c.Next = uint64(next)
		out = append(out, c)
	}
	return out, rows.Err()
}

// dropTxs marks the chain's transactions not yet final dropped and
// returns their hashes, oldest first.
func dropTxs(ctx context.Context, tx *wtx, chainID uint64, at time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT hash FROM transactions WHERE chain_id = ? AND state IN ('signed', 'broadcast')
		ORDER BY created_at, nonce, hash`, int64(chainID))
	if err != nil {
		return nil, fmt.Errorf("read transactions: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read transactions: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read transactions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE transactions SET state = 'dropped', updated_at = ?
		WHERE chain_id = ? AND state IN ('signed', 'broadcast')`, ms(at), int64(chainID)); err != nil {
		return nil, fmt.Errorf("drop transactions: %w", err)
	}
	return out, nil
}

type rowScanner = store.RowScanner

func scanTx(row rowScanner) (store.TxRecord, error) {
	var (
		r                        store.TxRecord
		chainID, nonce, send     int64
		block, status, broadcast sql.NullInt64
		created, updated         int64
	)
	if err := row.Scan(&r.Hash, &chainID, &r.Sender, &nonce, &r.GrantID, &r.Kind, &send, &r.Cancels, &r.Raw, &r.State,
		&block, &status, &r.ReplacedBy, &r.CancelledBy, &created, &updated, &broadcast); err != nil {
		return store.TxRecord{}, err
	}
	r.ChainID, r.Nonce, r.Send = uint64(chainID), uint64(nonce), send == 1
	r.Block, r.Status = uint64(block.Int64), uint64(status.Int64)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	if broadcast.Valid {
		t := fromMS(broadcast.Int64)
		r.BroadcastAt = &t
	}
	return r, nil
}
