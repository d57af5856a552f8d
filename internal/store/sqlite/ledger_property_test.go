package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// modelRes is one reservation as the model keeps it.
type modelRes struct {
	grant, asset string
	amount       *big.Int
	at           time.Time
	hash         string // "" for a spend without a transaction
	fee          bool
	state        string // pending, spent, released
}

// ledgerModel is the specification: a list of reservations and their
// fates, summed the slow, obvious way.
type ledgerModel struct{ res []*modelRes }

func (m *ledgerModel) charged(grant, asset string, since time.Time) store.Charged {
	c := store.Charged{Spent: new(big.Int), Pending: new(big.Int)}
	for _, r := range m.res {
		if r.grant != grant || r.asset != asset || r.at.UnixMilli() < since.UnixMilli() {
			continue
		}
		switch r.state {
		case statePending:
			c.Pending.Add(c.Pending, r.amount)
		case stateSpent:
			c.Spent.Add(c.Spent, r.amount)
		}
	}
	return c
}

// mayLand is what the transactions that landed or may still land (and
// spends without a transaction) charged: value moved plus the fee they
// pay at most (pending) or paid (settled).
func (m *ledgerModel) mayLand(grant, asset string, since time.Time) *big.Int {
	sum := new(big.Int)
	for _, r := range m.res {
		if r.grant == grant && r.asset == asset && r.at.UnixMilli() >= since.UnixMilli() && r.state != stateReleased {
			sum.Add(sum, r.amount)
		}
	}
	return sum
}

// TestLedgerFollowsRandomInterleavings signs, settles, releases and
// restarts in random order (fixed seeds, so failures reproduce) and checks
// after every step that the store's running totals equal the sum of the
// reservations not released, are never below what may still land, and
// agree with a fresh sum for an older period.
func TestLedgerFollowsRandomInterleavings(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { ledgerProperty(t, seed, 400) })
	}
}

func ledgerProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x1ed6e7))
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agentkeys.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	seedTB(t, s)
	grants := []string{"g", "h"}
	h := store.Grant{ID: "h", Agent: "bot2", Mode: store.ModeWallet, Address: wallet, SignerKeyID: "k",
		CredentialHash: []byte{2}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateGrant(ctx, h); err != nil {
		t.Fatal(err)
	}
	assets := []string{store.AssetNative, store.AssetFees, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"}
	const period = 6 * time.Hour
	now := t0
	m := &ledgerModel{}
	var txs []string // hashes signed so far
	amount := func() *big.Int { return new(big.Int).Lsh(big.NewInt(rng.Int64N(1_000_000)), uint(rng.IntN(120))) }

	check := func(step int, op string) {
		t.Helper()
		start := t0.Add(now.Sub(t0) / period * period)
		for _, g := range grants {
			for _, a := range assets {
				var cur, old store.Charged
				err := s.Decide(ctx, g, func(ctx context.Context, tx store.DecideTx) error {
					var err error
					if cur, err = tx.Spent(ctx, a, start); err != nil {
						return err
					}
					old, err = tx.Spent(ctx, a, start.Add(-period))
					return err
				})
				if err != nil {
					t.Fatalf("step %d (%s): %v", step, op, err)
				}
				for _, c := range []struct {
					since time.Time
					got   store.Charged
				}{{start, cur}, {start.Add(-period), old}} {
					want := m.charged(g, a, c.since)
					if c.got.Spent.Cmp(want.Spent) != 0 || c.got.Pending.Cmp(want.Pending) != 0 {
						t.Fatalf("step %d (%s): Spent(%s, %s, %s) = %s spent %s pending; the reservations say %s, %s",
							step, op, g, a, c.since.Format(time.RFC3339), c.got.Spent, c.got.Pending, want.Spent, want.Pending)
					}
					if c.got.Total().Cmp(m.mayLand(g, a, c.since)) < 0 {
						t.Fatalf("step %d (%s): %s %s charged %s, less than may still land", step, op, g, a, c.got.Total())
					}
				}
			}
		}
	}

	for step := range steps {
		var op string
		switch k := rng.IntN(100); {
		case k < 40: // sign a transaction: value in one or two assets, and maybe its worst-case fee
			op = "sign"
			g := grants[rng.IntN(len(grants))]
			hash := fmt.Sprintf("0x%064x", len(txs)+1)
			var spends []store.Spend
			for _, a := range assets[:1+rng.IntN(len(assets))] {
				if a != store.AssetFees {
					spends = append(spends, store.Spend{Asset: a, Amount: amount()})
				}
			}
			if rng.IntN(4) > 0 {
				feeAsset := store.AssetNative
				if rng.IntN(2) == 0 {
					feeAsset = store.AssetFees
				}
				spends = append(spends, store.Spend{Asset: feeAsset, Amount: amount(), Fee: true})
			}
			err := s.Decide(ctx, g, func(ctx context.Context, tx store.DecideTx) error {
				if _, err := tx.Spent(ctx, store.AssetNative, t0.Add(now.Sub(t0)/period*period)); err != nil {
					return err
				}
				return tx.ReserveTx(ctx, now, hash, spends)
			})
			if err != nil {
				t.Fatalf("step %d: sign: %v", step, err)
			}
			txs = append(txs, hash)
			for _, sp := range spends {
				m.res = append(m.res, &modelRes{grant: g, asset: sp.Asset, amount: new(big.Int).Set(sp.Amount), at: now, hash: hash, fee: sp.Fee, state: statePending})
			}
		case k < 48: // a permit: spent at once
			op = "permit"
			g := grants[rng.IntN(len(grants))]
			sp := store.Spend{Asset: assets[2], Amount: amount()}
			if err := s.Decide(ctx, g, func(ctx context.Context, tx store.DecideTx) error {
				return tx.Reserve(ctx, now, []store.Spend{sp})
			}); err != nil {
				t.Fatalf("step %d: permit: %v", step, err)
			}
			m.res = append(m.res, &modelRes{grant: g, asset: sp.Asset, amount: sp.Amount, at: now, state: stateSpent})
		case k < 65 && len(txs) > 0: // the transaction was included: settle it (sometimes twice)
			op = "settle"
			hash := txs[rng.IntN(len(txs))]
			var worst *big.Int
			for _, r := range m.res {
				if r.hash == hash && r.fee {
					worst = r.amount
				}
			}
			actual := new(big.Int)
			if worst != nil && worst.Sign() > 0 {
				// gas used × effective price: somewhere up to the worst case
				actual.Mul(worst, big.NewInt(rng.Int64N(1001)))
				actual.Div(actual, big.NewInt(1000))
			}
			if err := s.SettleTx(ctx, hash, actual); err != nil {
				t.Fatalf("step %d: settle: %v", step, err)
			}
			for _, r := range m.res {
				if r.hash == hash {
					r.state = stateSpent
					if r.fee {
						r.amount = actual
					}
				}
			}
		case k < 82 && len(txs) > 0: // another transaction took its nonce: release it
			op = "release"
			hash := txs[rng.IntN(len(txs))]
			settled := false
			for _, r := range m.res {
				settled = settled || r.hash == hash && r.state == stateSpent
			}
			_, err := s.ReleaseTx(ctx, store.TxRelease{Hash: hash, At: now, Audit: func(r store.TxReleased) audit.Record {
				return audit.Record{Time: now, Method: "agentkeys_txReleased", Decision: audit.DecisionAllow, TxHash: hash}
			}})
			switch {
			case settled && !errors.Is(err, store.ErrConflict):
				t.Fatalf("step %d: release of a settled transaction = %v, want ErrConflict", step, err)
			case !settled && err != nil:
				t.Fatalf("step %d: release: %v", step, err)
			case !settled:
				for _, r := range m.res {
					if r.hash == hash && r.state == statePending {
						r.state = stateReleased
					}
				}
			}
		case k < 90: // restart: the daemon stops and opens the file again
			op = "restart"
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(ctx, path); err != nil {
				t.Fatal(err)
			}
		default: // time passes, sometimes into the next period
			op = "time"
			now = now.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
		}
		check(step, op)
	}
}
