package service_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/service"
)

// A wallet key has no atomic batches: refused as a parameter error on
// "calls" before its calls are looked at.
func TestWalletKeyHasNoBatches(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.Batch(h.ctx, h.sess, h.info("wallet_sendCalls"), nil)
	var pe *service.ParamError
	if !errors.As(err, &pe) || pe.Field != "calls" {
		t.Fatalf("Batch with a wallet key: error %v, want a ParamError on calls", err)
	}
}

// A 7702 key signs as its own session key an execute call on the owner's
// account; its session says so, and the signed transaction agrees.
func TestSessionKeySignsExecuteOnOwner(t *testing.T) {
	e := startPipeline(t)
	ctx := context.Background()
	if _, err := e.svc.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	sink := common.HexToAddress("0x00000000000000000000000000000000005e11e5")
	sess := e.grant(t, service.Mode7702, fmt.Sprintf(`name: session
chains: [%d]
limits: [{asset: native, per_period: 0.01}]
allow: [{contract: "%s", functions: [{sig: "receive"}]}]
`, e.chain.ChainID().Uint64(), sink.Hex()))
	if sess.Mode() != service.Mode7702 {
		t.Errorf("Mode() = %q, want %q", sess.Mode(), service.Mode7702)
	}
	if sess.Owner() != e.owner {
		t.Errorf("Owner() = %s, want the owner %s", sess.Owner().Hex(), e.owner.Hex())
	}
	if sess.SignerAddress() == e.owner || sess.SignerAddress() == (common.Address{}) {
		t.Fatalf("SignerAddress() = %s, want the session key, not the owner or zero", sess.SignerAddress().Hex())
	}
	res, err := e.svc.Transaction(ctx, sess, service.RequestInfo{Method: "eth_signTransaction"},
		service.TxArgs{To: &sink, Value: big.NewInt(1000)}, false)
	if err != nil {
		t.Fatal(err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(e.chain.ChainID()), res.Tx)
	if err != nil {
		t.Fatal(err)
	}
	if from != sess.SignerAddress() || res.Tx.To() == nil || *res.Tx.To() != e.owner || res.Tx.Value().Sign() != 0 {
		t.Errorf("signed by %s to %v value %s; want by the session key %s, to the owner %s, value 0",
			from.Hex(), res.Tx.To(), res.Tx.Value(), sess.SignerAddress().Hex(), e.owner.Hex())
	}
}
