package sandbox

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
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

// TestSettleAndRelease: a mined transaction settles to its actual fee and
// becomes spent; a signed one that can no longer land is released with an
// audit record, once; a settled one is never released. The agent
// (getPermissions) and the owner (admin key view) see spent, pending and
// left apart throughout.
func TestSettleAndRelease(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	owner, weth := common.HexToAddress(e.sb.Info.Owner), common.HexToAddress(e.sb.Info.WETH)
	g := e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "0.01")})
	tok, keyID := token(t, g), g["key_id"].(string)
	svc := e.sb.Service

	type line struct {
		Asset        string `json:"asset"`
		RawSpent     string `json:"raw_spent"`
		RawPending   string `json:"raw_pending"`
		RawRemaining string `json:"raw_remaining"`
	}
	budget := func() (agentView, ownerView []line) {
		t.Helper()
		var perms struct {
			Budget []line `json:"budget"`
		}
		wantResult(t, e.call(tok, "agentkeys_getPermissions"), &perms)
		var v struct {
			Budget []line `json:"budget"`
		}
		if code := e.admin("GET", "/v1/grants/"+keyID, nil, &v); code != 200 {
			t.Fatalf("admin key view: HTTP %d", code)
		}
		return perms.Budget, v.Budget
	}
	want := func(what string, native, fees line) {
		t.Helper()
		agentView, ownerView := budget()
		wantLines := []line{native, fees}
		for _, got := range [][]line{agentView, ownerView} {
			if len(got) != 2 || got[0] != wantLines[0] || got[1] != wantLines[1] {
				t.Errorf("%s: budget = %+v, want %+v", what, got, wantLines)
			}
		}
	}
	sub := func(a *big.Int, bs ...*big.Int) string {
		out := new(big.Int).Set(a)
		for _, b := range bs {
			out.Sub(out, b)
		}
		return out.String()
	}
	capNative, capFees := big.NewInt(1e16), big.NewInt(1e18)

	// Sent and mined: pending at the worst-case fee until settled.
	var sent common.Hash
	if err := e.agent(tok).CallContext(ctx, &sent, "eth_sendTransaction", txObj{From: &owner, To: &weth, Value: (*hexutil.Big)(milliEther)}); err != nil {
		t.Fatal(err)
	}
	rcpt := e.receipt(sent)
	worst := e.maxFee(sent)
	want("sent", line{"native", "0", milliEther.String(), sub(capNative, milliEther)},
		line{"fees", "0", worst.String(), sub(capFees, worst)})
	actual := new(big.Int).Mul(new(big.Int).SetUint64(rcpt.GasUsed), rcpt.EffectiveGasPrice)
	if actual.Cmp(worst) >= 0 {
		t.Fatalf("actual fee %s not below the worst case %s: the test shows nothing", actual, worst)
	}
	for range 2 {
		if err := svc.SettleTx(ctx, sent, actual); err != nil {
			t.Fatal(err)
		}
	}
	want("settled", line{"native", milliEther.String(), "0", sub(capNative, milliEther)},
		line{"fees", actual.String(), "0", sub(capFees, actual)})

	// Signed, never sent, and (say) its nonce taken by another
	// transaction: released, with one audit record.
	unsent, err := e.signDeposit(tok, weth, milliEther)
	if err != nil {
		t.Fatal(err)
	}
	fee := worstFee(unsent)
	want("signed", line{"native", milliEther.String(), milliEther.String(), sub(capNative, milliEther, milliEther)},
		line{"fees", actual.String(), fee.String(), sub(capFees, actual, fee)})
	before := len(e.auditRecords())
	for i := range 2 {
		res, err := svc.ReleaseTx(ctx, unsent.Hash(), "nonce taken by another transaction")
		if err != nil {
			t.Fatal(err)
		}
		if wantN := []int{2, 0}[i]; len(res.Released) != wantN {
			t.Errorf("release %d released %+v, want %d assets", i+1, res.Released, wantN)
		}
	}
	want("released", line{"native", milliEther.String(), "0", sub(capNative, milliEther)},
		line{"fees", actual.String(), "0", sub(capFees, actual)})
	var released *audit.Record
	n := 0
	for _, r := range e.auditRecords()[before:] {
		if r.Method == "agentkeys_txReleased" {
			released = &r
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d release records, want exactly 1", n)
	}
	if released == nil || released.TxHash != unsent.Hash().Hex() || released.KeyID != "" ||
		!strings.Contains(string(released.Call), `"key_id":"`+keyID+`"`) || released.Reasons[0] != "nonce taken by another transaction" {
		t.Errorf("release record = %+v", released)
	}

	// A transaction that landed is never released.
	if _, err := svc.ReleaseTx(ctx, sent, "mistake"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("release of a settled transaction = %v, want ErrConflict", err)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}
