package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentkeys/agentkeys/internal/store"
)

// ResetChain implements store.Store. It locks the chain's grants first
// (in id order), then its nonce counters, then the audit head: Decide's
// order.
func (s *Store) ResetChain(ctx context.Context, req store.ChainResetRequest) (store.ChainReset, error) {
	switch {
	case req.ChainID == 0 || req.ChainID > math.MaxInt64:
		return store.ChainReset{}, fmt.Errorf("reset chain: %w: chain id %d out of range", store.ErrInvalid, req.ChainID)
	case req.At.IsZero():
		return store.ChainReset{}, fmt.Errorf("reset chain: %w: zero time", store.ErrInvalid)
	case req.RevokeReason == "":
		return store.ChainReset{}, fmt.Errorf("reset chain: %w: empty revoke reason", store.ErrInvalid)
	case req.Audit == nil:
		return store.ChainReset{}, fmt.Errorf("reset chain: %w: no audit record", store.ErrInvalid)
	}
	var res store.ChainReset
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		res = store.ChainReset{ChainID: req.ChainID, Nonces: []store.NonceCounter{}, Released: []store.ReleasedSpend{}, Revoked: []string{}, Dropped: []string{}}
		grants, err := grantsOnChain(ctx, tx, req.ChainID)
		if err != nil {
			return err
		}
		if res.Nonces, err = readNonces(ctx, tx, req.ChainID, true); err != nil {
			return fmt.Errorf("read nonces: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM nonces WHERE chain_id = $1`, int64(req.ChainID)); err != nil {
			return fmt.Errorf("delete nonces: %w", err)
		}
		for _, g := range grants {
			released, err := releaseReservations(ctx, tx, g.ID)
			if err != nil {
				return err
			}
			res.Released = append(res.Released, released...)
			if g.Mode != store.Mode7702 || g.RevokedAt != nil {
				continue
			}
			if err := revokeWithReason(ctx, tx, g, req.At, req.RevokeReason); err != nil {
				return err
			}
			res.Revoked = append(res.Revoked, g.ID)
		}
		if res.Dropped, err = dropTxs(ctx, tx, req.ChainID, req.At); err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, req.Audit(res))
		return err
	})
	if err != nil {
		return store.ChainReset{}, fmt.Errorf("reset chain: %w", err)
	}
	return res, nil
}

// grantsOnChain locks every grant (in id order) and returns those whose
// chains include chainID, ordered by creation then id. Chains are a JSON
// array, so they are matched here.
func grantsOnChain(ctx context.Context, tx pgx.Tx, chainID uint64) ([]store.Grant, error) {
	all, err := queryAll(ctx, tx, `SELECT `+grantColumns+` FROM grants ORDER BY id FOR NO KEY UPDATE`, nil, scanGrant)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	out := []store.Grant{}
	for _, g := range all {
		if slices.Contains(g.Chains, chainID) {
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b store.Grant) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// releaseReservations deletes a grant's reservations and running totals
// and returns the sums of the reservations not released before, per
// asset, in asset order.
func releaseReservations(ctx context.Context, tx pgx.Tx, grantID string) ([]store.ReleasedSpend, error) {
	type row struct {
		asset  string
		amount string
	}
	rows, err := queryAll(ctx, tx, `SELECT asset, amount FROM reservations WHERE grant_id = $1 AND state <> 'released' ORDER BY asset, id`,
		[]any{grantID}, func(r rowScanner) (row, error) {
			var x row
			err := r.Scan(&x.asset, &x.amount)
			return x, err
		})
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	var out []store.ReleasedSpend
	for _, r := range rows {
		v, err := store.ParseAmount(r.amount)
		if err != nil {
			return nil, fmt.Errorf("read reservations: %w", err)
		}
		out = store.AddReleased(out, grantID, r.asset, v)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM reservations WHERE grant_id = $1`, grantID); err != nil {
		return nil, fmt.Errorf("delete reservations: %w", err)
	}
	// The totals go with the reservations they summed; the next Spent
	// starts a new one (from nothing).
	if _, err := tx.Exec(ctx, `DELETE FROM ledger_totals WHERE grant_id = $1`, grantID); err != nil {
		return nil, fmt.Errorf("delete ledger totals: %w", err)
	}
	return out, nil
}

func revokeWithReason(ctx context.Context, tx pgx.Tx, g store.Grant, at time.Time, reason string) error {
	meta := map[string]string{store.MetaRevokedReason: reason}
	for k, v := range g.Meta {
		if k != store.MetaRevokedReason {
			meta[k] = v
		}
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = $1, meta = $2 WHERE id = $3 AND revoked_at IS NULL`, ms(at), string(b), g.ID); err != nil {
		return fmt.Errorf("revoke grant %q: %w", g.ID, err)
	}
	return nil
}
