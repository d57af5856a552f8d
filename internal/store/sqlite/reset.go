package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/agentkeys/agentkeys/internal/store"
)

// ResetChain implements store.Store.
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
	res := store.ChainReset{ChainID: req.ChainID, Nonces: []store.NonceCounter{}, Released: []store.ReleasedSpend{}, Revoked: []string{}, Dropped: []string{}}
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		var err error
		if res.Nonces, err = deleteNonces(ctx, tx, req.ChainID); err != nil {
			return err
		}
		grants, err := grantsOnChain(ctx, tx, req.ChainID)
		if err != nil {
			return err
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

func deleteNonces(ctx context.Context, tx *wtx, chainID uint64) ([]store.NonceCounter, error) {
	out, err := readNonces(ctx, tx, chainID)
	if err != nil {
		return nil, fmt.Errorf("read nonces: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE chain_id = ?`, int64(chainID)); err != nil {
		return nil, fmt.Errorf("delete nonces: %w", err)
	}
	return out, nil
}

// grantsOnChain returns the grants whose chains include chainID, ordered
// by creation then id: their ids, modes, whether they are revoked, and
// the meta of the 7702 grants not revoked (which a reset revokes), only
// that, so a store of 100,000 grants is not read whole into memory.
// Chains are a JSON array, so they are matched here.
func grantsOnChain(ctx context.Context, tx *wtx, chainID uint64) ([]store.Grant, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, mode, chains, revoked_at IS NOT NULL,
		CASE WHEN mode = ? AND revoked_at IS NULL THEN meta ELSE '{}' END FROM grants ORDER BY created_at, id`, store.Mode7702)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	defer rows.Close()
	var out []store.Grant
	revokedAt := time.Time{}
	for rows.Next() {
		var (
			g            store.Grant
			chains, meta string
			revoked      bool
		)
		if err := rows.Scan(&g.ID, &g.Mode, &chains, &revoked, &meta); err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		if err := store.DecodeGrantJSON(&g, chains, meta); err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		if !slices.Contains(g.Chains, chainID) {
			continue
		}
		g.Chains = nil
		if revoked {
			g.RevokedAt = &revokedAt // revoked; when does not matter here
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	return out, nil
}

// releaseReservations deletes a grant's reservations and running totals
// and returns the sums of the reservations not released before, per
// asset, in asset order.
func releaseReservations(ctx context.Context, tx *wtx, grantID string) ([]store.ReleasedSpend, error) {
	rows, err := tx.QueryContext(ctx, `SELECT asset, amount FROM reservations WHERE grant_id = ? AND state <> 'released' ORDER BY asset`, grantID)
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	defer rows.Close()
	var out []store.ReleasedSpend
	for rows.Next() {
		var asset, amount string
		if err := rows.Scan(&asset, &amount); err != nil {
			return nil, fmt.Errorf("read reservations: %w", err)
		}
		v, err := store.ParseAmount(amount)
		if err != nil {
			return nil, fmt.Errorf("read reservations: %w", err)
		}
		out = store.AddReleased(out, grantID, asset, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM reservations WHERE grant_id = ?`, grantID); err != nil {
		return nil, fmt.Errorf("delete reservations: %w", err)
	}
	// The totals go with the reservations they summed; the next Spent
	// starts a new one (from nothing).
	if _, err := tx.ExecContext(ctx, `DELETE FROM ledger_totals WHERE grant_id = ?`, grantID); err != nil {
		return nil, fmt.Errorf("delete ledger totals: %w", err)
	}
	return out, nil
}

func revokeWithReason(ctx context.Context, tx *wtx, g store.Grant, at time.Time, reason string) error {
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
	if _, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ?, meta = ? WHERE id = ? AND revoked_at IS NULL`, ms(at), string(b), g.ID); err != nil {
		return fmt.Errorf("revoke grant %q: %w", g.ID, err)
	}
	return nil
}
