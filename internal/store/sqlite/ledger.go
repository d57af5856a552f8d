package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/agentkeys/agentkeys/internal/store"
)

// Reservation states (reservations.state).
const (
	statePending  = "pending"
	stateSpent    = "spent"
	stateReleased = "released"
)

// The ledger keeps, per grant and asset, the sums of the live reservations
// with at >= period_start (ledger_totals). Its one invariant: every stored
// row equals what sumReservations would compute for it. Every statement
// that adds, changes or releases a reservation calls adjustTotals in the
// same transaction, so the invariant holds at every commit.

// sumReservations computes a grant's charges of asset since a time (ms)
// from the reservations themselves. Summed here, not in SQL: SQLite's SUM
// would go through float64.
func sumReservations(ctx context.Context, q querier, grantID, asset string, since int64) (store.Charged, error) {
	rows, err := q.QueryContext(ctx, `SELECT amount, state FROM reservations
		WHERE grant_id = ? AND asset = ? AND at >= ? AND state <> 'released'`, grantID, asset, since)
	if err != nil {
		return store.Charged{}, err
	}
	defer rows.Close()
	c := store.Charged{Spent: new(big.Int), Pending: new(big.Int)}
	for rows.Next() {
		var amount, state string
		if err := rows.Scan(&amount, &state); err != nil {
			return store.Charged{}, err
		}
		v, err := store.ParseAmount(amount)
		if err != nil {
			return store.Charged{}, err
		}
		if state == statePending {
			c.Pending.Add(c.Pending, v)
		} else {
			c.Spent.Add(c.Spent, v)
		}
	}
	return c, rows.Err()
}

// readTotals returns the running total row of a grant and asset.
func readTotals(ctx context.Context, q querier, grantID, asset string) (start int64, c store.Charged, ok bool, err error) {
	var spent, pending string
	err = q.QueryRowContext(ctx, `SELECT period_start, spent, pending FROM ledger_totals WHERE grant_id = ? AND asset = ?`,
		grantID, asset).Scan(&start, &spent, &pending)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.Charged{}, false, nil
	}
	if err != nil {
		return 0, store.Charged{}, false, err
	}
	if c.Spent, err = store.ParseAmount(spent); err != nil {
		return 0, store.Charged{}, false, err
	}
	if c.Pending, err = store.ParseAmount(pending); err != nil {
		return 0, store.Charged{}, false, err
	}
	return start, c, true, nil
}

// charged answers DecideTx.Spent: the running total when it is for since,
// else the sum of the reservations, which becomes the running total when
// since is newer than the stored one (a new period).
func charged(ctx context.Context, tx *wtx, grantID, asset string, since int64) (store.Charged, error) {
	start, c, ok, err := readTotals(ctx, tx, grantID, asset)
	if err != nil {
		return store.Charged{}, err
	}
	if ok && start == since {
		return c, nil
	}
	c, err = sumReservations(ctx, tx, grantID, asset, since)
	if err != nil {
		return store.Charged{}, err
	}
	if !ok || start < since {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_totals (grant_id, asset, period_start, spent, pending) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (grant_id, asset) DO UPDATE SET period_start = excluded.period_start, spent = excluded.spent, pending = excluded.pending`,
			grantID, asset, since, c.Spent.String(), c.Pending.String()); err != nil {
			return store.Charged{}, err
		}
	}
	return c, nil
}

// adjustTotals adds dSpent and dPending to the running total of a grant
// and asset if a reservation made at `at` (ms) falls in it.
func adjustTotals(ctx context.Context, tx *wtx, grantID, asset string, at int64, dSpent, dPending *big.Int) error {
	if dSpent.Sign() == 0 && dPending.Sign() == 0 {
		return nil
	}
	start, c, ok, err := readTotals(ctx, tx, grantID, asset)
	if err != nil || !ok || at < start {
		return err
	}
	c.Spent.Add(c.Spent, dSpent)
	c.Pending.Add(c.Pending, dPending)
	if c.Spent.Sign() < 0 || c.Pending.Sign() < 0 {
		return fmt.Errorf("ledger total of grant %q, %s would go negative: the database was edited", grantID, asset)
	}
	_, err = tx.ExecContext(ctx, `UPDATE ledger_totals SET spent = ?, pending = ? WHERE grant_id = ? AND asset = ?`,
		c.Spent.String(), c.Pending.String(), grantID, asset)
	return err
}

// reserve inserts spends in state and moves the running totals: one
// statement for the rows (a transaction's value and fee are two), and one
// move of the totals per asset.
func reserve(ctx context.Context, tx *wtx, grantID string, at int64, txHash, state string, assets []string, spends []store.Spend) error {
	if len(spends) == 0 {
		return nil
	}
	var (
		values strings.Builder
		args   = make([]any, 0, 7*len(spends))
		sums   = map[string]*big.Int{}
		order  []string
	)
	for i, s := range spends {
		fee := 0
		if s.Fee {
			fee = 1
		}
		if i > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, grantID, assets[i], s.Amount.String(), at, txHash, fee, state)
		if sums[assets[i]] == nil {
			sums[assets[i]] = new(big.Int)
			order = append(order, assets[i])
		}
		sums[assets[i]].Add(sums[assets[i]], s.Amount)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reservations (grant_id, asset, amount, at, tx_hash, fee, state) VALUES `+values.String(), args...); err != nil {
		return err
	}
	zero := new(big.Int)
	for _, asset := range order {
		dSpent, dPending := sums[asset], zero
		if state == statePending {
			dSpent, dPending = zero, sums[asset]
		}
		if err := adjustTotals(ctx, tx, grantID, asset, at, dSpent, dPending); err != nil {
			return err
		}
	}
	return nil
}

// txReservation is one reservation of a transaction.
type txReservation struct {
	id      int64
	grantID string
	asset   string
	amount  *big.Int
	at      int64
	fee     bool
	state   string
}

func txReservations(ctx context.Context, tx *wtx, hash string) ([]txReservation, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, grant_id, asset, amount, at, fee, state FROM reservations
		WHERE tx_hash = ? ORDER BY asset, id`, hash)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []txReservation
	for rows.Next() {
		var (
			r      txReservation
			amount string
		)
		if err := rows.Scan(&r.id, &r.grantID, &r.asset, &amount, &r.at, &r.fee, &r.state); err != nil {
			return nil, err
		}
		if r.amount, err = store.ParseAmount(amount); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SettleTx implements store.Store.
func (s *Store) SettleTx(ctx context.Context, txHash string, actualFee *big.Int) error {
	hash, err := store.NormalizeTxHash(txHash)
	if err != nil {
		return fmt.Errorf("settle tx: %w", err)
	}
	if err := store.ValidateAmount(actualFee); err != nil {
		return fmt.Errorf("settle tx: fee: %w", err)
	}
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		rs, err := txReservations(ctx, tx, hash)
		if err != nil {
			return err
		}
		for _, r := range rs {
			amount := r.amount
			if r.fee {
				amount = actualFee
			}
			if r.state == stateSpent && amount.Cmp(r.amount) == 0 {
				continue
			}
			// Take out what the reservation counted for, put in its
			// settled amount.
			dSpent, dPending := store.SettleDelta(r.state, r.amount, amount)
			if _, err := tx.ExecContext(ctx, `UPDATE reservations SET state = 'spent', amount = ?, released_at = NULL WHERE id = ?`,
				amount.String(), r.id); err != nil {
				return err
			}
			if err := adjustTotals(ctx, tx, r.grantID, r.asset, r.at, dSpent, dPending); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle tx: %w", err)
	}
	return nil
}

// ReleaseTx implements store.Store.
func (s *Store) ReleaseTx(ctx context.Context, req store.TxRelease) (store.TxReleased, error) {
	hash, err := store.NormalizeTxHash(req.Hash)
	switch {
	case err != nil:
		return store.TxReleased{}, fmt.Errorf("release tx: %w", err)
	case req.At.IsZero():
		return store.TxReleased{}, fmt.Errorf("release tx: %w: zero time", store.ErrInvalid)
	case req.Audit == nil:
		return store.TxReleased{}, fmt.Errorf("release tx: %w: no audit record", store.ErrInvalid)
	}
	res := store.TxReleased{Hash: hash, Released: []store.ReleasedSpend{}}
	err = s.writeTx(ctx, func(ctx context.Context, tx *wtx) error {
		rs, err := txReservations(ctx, tx, hash)
		if err != nil {
			return err
		}
		zero := new(big.Int)
		for _, r := range rs {
			res.GrantID = r.grantID
			switch r.state {
			case stateSpent:
				return fmt.Errorf("%w: transaction %s was settled (it landed), so its spend stays", store.ErrConflict, hash)
			case stateReleased:
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE reservations SET state = 'released', released_at = ? WHERE id = ?`, ms(req.At), r.id); err != nil {
				return err
			}
			if err := adjustTotals(ctx, tx, r.grantID, r.asset, r.at, zero, new(big.Int).Neg(r.amount)); err != nil {
				return err
			}
			res.Released = store.AddReleased(res.Released, r.grantID, r.asset, r.amount)
		}
		if len(res.Released) == 0 {
			return nil
		}
		_, err = appendAudit(ctx, tx, req.Audit(res))
		return err
	})
	if err != nil {
		return store.TxReleased{}, fmt.Errorf("release tx: %w", err)
	}
	return res, nil
}
