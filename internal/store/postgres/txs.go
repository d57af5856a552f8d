package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

const txColumns = `hash, chain_id, sender, nonce, grant_id, kind, send, cancels, raw, state,
	block_number, receipt_status, replaced_by, cancelled_by, created_at, updated_at, broadcast_at`

// insertTx stores a validated record in state signed. A hash already
// recorded is ErrConflict, and leaves the transaction usable.
func insertTx(ctx context.Context, tx pgx.Tx, r store.TxRecord) error {
	hash, _ := store.NormalizeHash(r.Hash)
	sender, _ := store.NormalizeAddress(r.Sender)
	tag, err := tx.Exec(ctx, `INSERT INTO transactions (`+txColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, '', '', $11, $12, NULL) ON CONFLICT (hash) DO NOTHING`,
		hash, int64(r.ChainID), sender, int64(r.Nonce), r.GrantID, r.Kind, r.Send, strings.ToLower(r.Cancels), r.Raw, store.TxSigned,
		ms(r.CreatedAt), ms(r.CreatedAt))
	if err == nil && tag.RowsAffected() == 0 {
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
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		if r.Kind == store.TxKindCancel {
			// Locked: two replicas' watchers cancelling one transaction
			// at once record one cancel.
			orig, err := getTx(ctx, tx, strings.ToLower(r.Cancels), true)
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
			if _, err := tx.Exec(ctx, `UPDATE transactions SET cancelled_by = $1, updated_at = $2 WHERE hash = $3`,
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
	err = s.writeTx(ctx, func(tx pgx.Tx) error {
		cur, err := getTx(ctx, tx, h, true)
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
		var block, status *int64
		if u.State == store.TxIncluded {
			b, st := int64(u.Block), int64(u.Status)
			block, status = &b, &st
		}
		var broadcastAt *int64
		if cur.BroadcastAt != nil {
			v := ms(*cur.BroadcastAt)
			broadcastAt = &v
		}
		if u.State == store.TxBroadcast {
			v := ms(u.At)
			broadcastAt = &v
		}
		if _, err := tx.Exec(ctx, `UPDATE transactions SET state = $1, block_number = $2, receipt_status = $3,
			replaced_by = $4, cancelled_by = $5, updated_at = $6, broadcast_at = $7 WHERE hash = $8`,
			u.State, block, status, strings.ToLower(u.ReplacedBy), cancelledBy, ms(u.At), broadcastAt, h); err != nil {
			return err
		}
		out, err = getTx(ctx, tx, h, false)
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
	r, err := getTx(ctx, s.pool, h, false)
	if err != nil {
		return store.TxRecord{}, fmt.Errorf("get tx: %w", err)
	}
	return r, nil
}

// getTx reads the transaction hash; with lock, it locks its row until the
// transaction ends, so replicas' watchers move it one at a time.
func getTx(ctx context.Context, q querier, hash string, lock bool) (store.TxRecord, error) {
	query := `SELECT ` + txColumns + ` FROM transactions WHERE hash = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	r, err := scanTx(q.QueryRow(ctx, query, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.TxRecord{}, fmt.Errorf("%w: transaction %s", store.ErrNotFound, hash)
	}
	return r, err
}

// CountTxs implements store.Store.
func (s *Store) CountTxs(ctx context.Context, chainID uint64) (map[string]int, error) {
	if chainID == 0 || chainID > math.MaxInt64 {
		return nil, fmt.Errorf("count txs: %w: chain id %d", store.ErrInvalid, chainID)
	}
	type count struct {
		state string
		n     int
	}
	counts, err := queryAll(ctx, s.pool, `SELECT state, COUNT(*) FROM transactions WHERE chain_id = $1 GROUP BY state`,
		[]any{int64(chainID)}, func(r rowScanner) (count, error) {
			var c count
			err := r.Scan(&c.state, &c.n)
			return c, err
		})
	if err != nil {
		return nil, fmt.Errorf("count txs: %w", err)
	}
	out := map[string]int{}
	for _, c := range counts {
		out[c.state] = c.n
	}
	return out, nil
}

// ListTxs implements store.Store.
func (s *Store) ListTxs(ctx context.Context, f store.TxFilter) ([]store.TxRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list txs: %w", err)
	}
	var w where
	if f.GrantID != "" {
		w.add("grant_id = ?", f.GrantID)
	}
	if f.State != "" {
		w.add("state = ?", f.State)
	}
	if f.NonFinal {
		w.add("state IN ('signed', 'broadcast')")
	}
	if f.Sender != "" {
		w.add("sender = ?", strings.ToLower(f.Sender))
	}
	if f.ChainID != 0 {
		w.add("chain_id = ?", int64(f.ChainID))
	}
	if f.MinNonce != 0 {
		w.add("nonce >= ?", int64(f.MinNonce))
	}
	q := `SELECT ` + txColumns + ` FROM transactions` + w.sql() + ` ORDER BY created_at, nonce, hash`
	if f.Limit > 0 {
		q += ` LIMIT ` + w.next(f.Limit)
	}
	out, err := queryAll(ctx, s.pool, q, w.args, scanTx)
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
	out, err := readNonces(ctx, s.pool, chainID, false)
	if err != nil {
		return nil, fmt.Errorf("nonces: %w", err)
	}
	return out, nil
}

// readNonces lists the nonce counters of chainID, ordered by address;
// with lock, it locks them.
func readNonces(ctx context.Context, q querier, chainID uint64, lock bool) ([]store.NonceCounter, error) {
	query := `SELECT address, next FROM nonces WHERE chain_id = $1 ORDER BY address`
	if lock {
		query += ` FOR UPDATE`
	}
	return queryAll(ctx, q, query, []any{int64(chainID)}, func(r rowScanner) (store.NonceCounter, error) {
		var (
			c    store.NonceCounter
			next int64
		)
		err := r.Scan(&c.Address, &next)
		c.Next = uint64(next)
		return c, err
	})
}

// dropTxs marks the chain's transactions not yet final dropped and
// returns their hashes, oldest first.
func dropTxs(ctx context.Context, tx pgx.Tx, chainID uint64, at time.Time) ([]string, error) {
	out, err := queryAll(ctx, tx, `SELECT hash FROM transactions WHERE chain_id = $1 AND state IN ('signed', 'broadcast')
		ORDER BY created_at, nonce, hash FOR UPDATE`, []any{int64(chainID)}, func(r rowScanner) (string, error) {
		var h string
		err := r.Scan(&h)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read transactions: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE transactions SET state = 'dropped', updated_at = $1
		WHERE chain_id = $2 AND state IN ('signed', 'broadcast')`, ms(at), int64(chainID)); err != nil {
		return nil, fmt.Errorf("drop transactions: %w", err)
	}
	return out, nil
}

func scanTx(row rowScanner) (store.TxRecord, error) {
	var (
		r                        store.TxRecord
		chainID, nonce           int64
		block, status, broadcast *int64
		created, updated         int64
	)
	if err := row.Scan(&r.Hash, &chainID, &r.Sender, &nonce, &r.GrantID, &r.Kind, &r.Send, &r.Cancels, &r.Raw, &r.State,
		&block, &status, &r.ReplacedBy, &r.CancelledBy, &created, &updated, &broadcast); err != nil {
		return store.TxRecord{}, err
	}
	r.ChainID, r.Nonce = uint64(chainID), uint64(nonce)
	if block != nil {
		r.Block = uint64(*block)
	}
	if status != nil {
		r.Status = uint64(*status)
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	r.BroadcastAt = optMS(broadcast)
	return r, nil
}
