package service_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestFillFromFollowedHead: with a head reading (what FollowHeads keeps
// current), a transaction that gives its gas is signed with no node call:
// fees come from the reading and the nonce floor is read once per head
// and account. A new head drops the floors, so a nonce taken by a wallet
// outside agentkeys is seen at the next head.
func TestFillFromFollowedHead(t *testing.T) {
	h := newHarness(t)
	gas := uint64(21000)
	sign := func() *service.TxResult {
		t.Helper()
		res, err := h.svc.Transaction(h.ctx, h.sess, h.info("eth_signTransaction"),
			service.TxArgs{To: &stranger, Value: big.NewInt(1e12), Gas: &gas}, false)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	calls := func(f func()) int64 {
		t.Helper()
		before := h.svc.NodeCalls()
		f()
		return h.svc.NodeCalls() - before
	}

	// No reading: every fill asks the node (nonce pending and latest,
	// head, tip).
	if n := calls(func() { sign() }); n != 4 {
		t.Errorf("fill without a head reading made %d node calls, want 4", n)
	}
	if n := calls(func() {
		if err := h.svc.RefreshHead(h.ctx); err != nil {
			t.Fatal(err)
		}
	}); n != 2 {
		t.Errorf("RefreshHead made %d node calls, want 2 (head, tip)", n)
	}
	head, err := h.chain.Client().HeaderByNumber(h.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := h.chain.Client().SuggestGasTipCap(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var res *service.TxResult
	if n := calls(func() { res = sign() }); n != 2 {
		t.Errorf("first fill at a new head made %d node calls, want 2 (the account's nonce floor)", n)
	}
	wantCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	if res.Tx.GasFeeCap().Cmp(wantCap) != 0 || res.Tx.GasTipCap().Cmp(tip) != 0 {
		t.Errorf("fees %s/%s, want the head's %s/%s", res.Tx.GasFeeCap(), res.Tx.GasTipCap(), wantCap, tip)
	}
	for range 3 {
		if n := calls(func() { res = sign() }); n != 0 {
			t.Errorf("fill at a known head made %d node calls, want none", n)
		}
	}
	last := res.Tx.Nonce()

	// A wallet outside agentkeys takes nonces past the store's counter
	// (the signed transactions were never sent, so the node's nonce
	// starts at 0): only the floor read at the next head can show them.
	for range last + 4 {
		if _, err := h.chain.SendAs(h.ctx, h.wallet, devchain.Tx{To: &common.Address{1}, Value: big.NewInt(1)}); err != nil {
			t.Fatal(err)
		}
	}
	mined, err := h.chain.Client().NonceAt(h.ctx, h.wallet.Address(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if mined <= last+1 {
		t.Fatalf("the outside wallet reached nonce %d, not past the store's %d", mined, last+1)
	}
	if err := h.svc.RefreshHead(h.ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls(func() { res = sign() }); n != 2 {
		t.Errorf("first fill after a new head made %d node calls, want 2", n)
	}
	if res.Tx.Nonce() < mined {
		t.Errorf("signed nonce %d after the outside wallet took nonces up to %d", res.Tx.Nonce(), mined-1)
	}
}
