package sandbox

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// signDeposit asks for an eth_signTransaction of value to WETH and
// returns the signed transaction, or the error.
func (e *env) signDeposit(tok string, weth common.Address, value *big.Int) (*types.Transaction, error) {
	e.t.Helper()
	var raw hexutil.Bytes
	if err := e.agent(tok).CallContext(context.Background(), &raw, "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(value)}); err != nil {
		return nil, err
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		e.t.Fatalf("result %x is not a signed transaction: %v", raw, err)
	}
	return &tx, nil
}

func worstFee(tx *types.Transaction) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), tx.GasFeeCap())
}

// TestFeesCountAgainstTheNativeBudget: with no fees limit, a wallet-mode
// transaction reserves its worst-case fee against the native cap on top
// of its value, and a request whose value fits but whose fee does not is
// refused naming the fee.
func TestFeesCountAgainstTheNativeBudget(t *testing.T) {
	e := start(t)
	weth := common.HexToAddress(e.sb.Info.WETH)
	probe := token(t, e.grant(map[string]any{"agent": "probe", "policy": policyText("probe",
		"limits: [{asset: native, per_period: 1, period: 24h}]",
		"allow: [{contract: \""+weth.Hex()+"\", functions: [receive]}]")}))
	first, err := e.signDeposit(probe, weth, milliEther)
	if err != nil {
		t.Fatal(err)
	}
	fee := worstFee(first)
	if fee.Sign() <= 0 {
		t.Fatalf("worst-case fee %s, want > 0", fee)
	}

	// Room for one deposit and its fee, plus another deposit's value and
	// half its fee.
	capWei := new(big.Int).Add(new(big.Int).Mul(milliEther, big.NewInt(2)), fee)
	capWei.Add(capWei, new(big.Int).Div(fee, big.NewInt(2)))
	tok := token(t, e.grant(map[string]any{"agent": "payer", "policy": policyText("payer",
		"limits: [{asset: native, per_period: "+capWei.String()+"wei, period: 24h}]",
		"allow: [{contract: \""+weth.Hex()+"\", functions: [receive]}]")}))
	tx, err := e.signDeposit(tok, weth, milliEther)
	if err != nil {
		t.Fatalf("first deposit: %v", err)
	}
	if got := worstFee(tx); got.Cmp(fee) != 0 {
		t.Fatalf("worst-case fee changed from %s to %s between two signatures; the test's arithmetic needs it stable", fee, got)
	}
	_, err = e.signDeposit(tok, weth, milliEther)
	wantRefused(t, err, 4001, "fees of up to ")
	wantRefused(t, err, 4001, "would exceed the limit of")

	var perms struct {
		Budget []struct {
			RawSpent     string `json:"raw_spent"`
			RawPending   string `json:"raw_pending"`
			RawRemaining string `json:"raw_remaining"`
		} `json:"budget"`
	}
	wantResult(t, e.call(tok, "agentkeys_getPermissions"), &perms)
	pending := new(big.Int).Add(milliEther, fee)
	left := new(big.Int).Sub(capWei, pending)
	if len(perms.Budget) != 1 || perms.Budget[0].RawSpent != "0" || perms.Budget[0].RawPending != pending.String() || perms.Budget[0].RawRemaining != left.String() {
		t.Errorf("budget = %+v, want %s pending (value and fee), %s left", perms.Budget, pending, left)
	}
}
