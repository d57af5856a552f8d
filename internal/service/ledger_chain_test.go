package service_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestLedgerFollowsTheChain drives a key through random interleavings on
// the real EVM — sends, signatures the agent keeps, relays of some of them,
// stuck ones cancelled, sweeps, daemon restarts — and checks after every
// step that its budget (spent plus pending) is exactly what its
// transactions moved or may still move: value plus actual fee for those
// that landed, value plus worst-case fee for those that may still land,
// nothing for those that never can. At the end, when everything is final,
// the budget equals what the chain's receipts say the key moved.
func TestLedgerFollowsTheChain(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			h := newHarness(t)
			r := rand.New(rand.NewPCG(seed, 2026))
			var held [][]byte // eth_signTransaction results the agent has not relayed
			for step := range 40 {
				what := ""
				switch k := r.IntN(8); {
				case k < 3:
					what = "send"
					if _, err := h.send(true); err != nil {
						t.Fatalf("step %d: send: %v", step, err)
					}
				case k == 3:
					what = "sign and keep"
					res, err := h.send(false)
					if err != nil {
						t.Fatalf("step %d: sign: %v", step, err)
					}
					held = append(held, res.Raw)
				case k == 4 && len(held) > 0:
					what = "relay a kept signature"
					i := r.IntN(len(held))
					tx := new(types.Transaction)
					if err := tx.UnmarshalBinary(held[i]); err != nil {
						t.Fatal(err)
					}
					// A cancelled one is refused (nonce too low): that is the point.
					_ = h.chain.Client().SendTransaction(h.ctx, tx)
					held = append(held[:i], held[i+1:]...)
				case k == 5:
					what = "stuck-after passes"
					h.clock.Advance(stuckAfter + 1e9)
					h.sweep()
				case k == 6:
					what = "restart"
					h.svc = h.newService()
				default:
					what = "sweep"
					h.sweep()
				}
				checkLedger(t, h, fmt.Sprintf("step %d (%s)", step, what), false)
			}
			// Drain: what the agent kept is cancelled, everything lands or
			// is replaced, and every transaction becomes final.
			for range 10 {
				h.clock.Advance(stuckAfter + 1e9)
				h.sweep()
				waitMined(t, h)
				if open, err := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID}); err == nil && allFinal(open) {
					break
				}
			}
			checkLedger(t, h, "at the end", true)
			states := map[string]int{}
			txs, _ := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID})
			for _, tx := range txs {
				states[tx.Kind+" "+tx.State]++
			}
			t.Logf("final states: %v", states)
			if states["agent included"] == 0 || states["agent cancelled"]+states["agent replaced"] == 0 {
				t.Errorf("the interleaving never both landed and lost a transaction (%v): pick another seed", states)
			}
		})
	}
}

// waitMined waits until the dev chain has mined everything the wallet has
// in its pool (it mines as transactions arrive, a moment later), so the
// next sweep sees the receipts.
func waitMined(t *testing.T, h *harness) {
	t.Helper()
	for range 2000 {
		pending, err := h.chain.Client().PendingNonceAt(h.ctx, h.wallet.Address())
		if err != nil {
			t.Fatal(err)
		}
		latest, err := h.chain.Client().NonceAt(h.ctx, h.wallet.Address(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if pending == latest {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the dev chain did not mine the wallet's pending transactions")
}

func allFinal(txs []service.TxInfo) bool {
	for _, t := range txs {
		if t.State == store.TxSigned || t.State == store.TxBroadcast {
			return false
		}
	}
	return true
}

// checkLedger compares the key's native budget with its transactions.
// final also requires every transaction to be final and takes "landed"
// from the chain's receipts.
func checkLedger(t *testing.T, h *harness, when string, final bool) {
	t.Helper()
	txs, err := h.svc.Txs(h.ctx, service.TxQuery{KeyID: h.keyID})
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int)
	for _, info := range txs {
		if info.Kind != store.TxKindAgent {
			continue // cancels are the owner's cost, not the key's
		}
		rec, err := h.store.GetTx(h.ctx, info.Hash)
		if err != nil {
			t.Fatal(err)
		}
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(rec.Raw); err != nil {
			t.Fatal(err)
		}
		switch rec.State {
		case store.TxIncluded:
			rcpt := h.receipt(info.Hash)
			fee := new(big.Int).Mul(new(big.Int).SetUint64(rcpt.GasUsed), rcpt.EffectiveGasPrice)
			want.Add(want, fee.Add(fee, tx.Value()))
		case store.TxSigned, store.TxBroadcast:
			if final {
				t.Errorf("%s: %s is still %s", when, info.Hash, rec.State)
			}
			worst := new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), tx.GasFeeCap())
			want.Add(want, worst.Add(worst, tx.Value()))
		case store.TxReplaced, store.TxCancelled:
			if final {
				if _, err := h.chain.Client().TransactionReceipt(h.ctx, tx.Hash()); err == nil {
					t.Errorf("%s: %s is %s but the chain mined it", when, info.Hash, rec.State)
				}
			}
		default:
			t.Errorf("%s: %s in unexpected state %s", when, info.Hash, rec.State)
		}
	}
	perms, err := h.svc.Permissions(h.ctx, h.sess, h.info("agentkeys_getPermissions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range perms.Budget {
		if b.Asset != "native" {
			continue
		}
		spent, _ := new(big.Int).SetString(b.RawSpent, 10)
		pending, _ := new(big.Int).SetString(b.RawPending, 10)
		if spent == nil || pending == nil {
			t.Fatalf("%s: budget %+v", when, b)
		}
		if got := new(big.Int).Add(spent, pending); got.Cmp(want) != 0 {
			t.Fatalf("%s: budget spent %s + pending %s = %s; the transactions moved or may move %s", when, spent, pending, got, want)
		}
		if final && pending.Sign() != 0 {
			t.Errorf("%s: %s still pending with every transaction final", when, pending)
		}
		return
	}
	t.Fatalf("%s: no native budget line in %+v", when, perms.Budget)
}
