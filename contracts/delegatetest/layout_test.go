package delegatetest

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/go-cmp/cmp"
)

// The storage layout packs what execute reads into few slots, with other
// forms for what does not fit: caps of 2^100 - 1 base units or more,
// conditions past the two a permission's head holds, spend rules a
// permission's head cannot hold (a selector with two, a permission of
// several conditions). Each case is judged here on the current contract and
// on the one before the repacking (testdata), which must agree.
func TestStorageLayoutEdges(t *testing.T) {
	base := newEnv(t, envConfig{})
	impls := []struct {
		name string
		env  func() *env
	}{
		{"current", func() *env { return base }},
		{"before repacking", func() *env { return base.withImplementation(v1Bytecode) }},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			layoutEdges(t, impl.env().sub(t))
		})
	}
}

func layoutEdges(t *testing.T, e *env) {
	pow2 := func(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }
	plus := func(a *big.Int, b int64) *big.Int { return new(big.Int).Add(a, big.NewInt(b)) }
	minus := func(a *big.Int, b int64) *big.Int { return new(big.Int).Sub(a, big.NewInt(b)) }
	n := func(v int64) [32]byte { return wordInt(big.NewInt(v)) }
	owner, stranger := e.owner.addr, e.stranger.addr
	session := e.funded()
	// Tokens without code: execute's call to them succeeds, which is
	// enough to see a spend recorded, whatever the amount.
	tokenA := common.HexToAddress("0x000000000000000000000000000000000000a0a0") // caps just fit 100 bits
	tokenB := common.HexToAddress("0x000000000000000000000000000000000000b0b0") // per-tx cap just does not
	tokenC := common.HexToAddress("0x000000000000000000000000000000000000c0c0")
	tokenD := common.HexToAddress("0x000000000000000000000000000000000000d0d0") // period cap does not
	const period = 3600
	ping := selector("ping()")

	cfg := e.swapConfig(swapPolicy{period: period})
	cfg.Permissions = []permission{
		{Target: tokenA, Selector: selTransfer},
		{Target: tokenB, Selector: selTransfer},
		// Six conditions: two in the head, four past it.
		{Target: tokenC, Selector: selApprove, Conditions: []condition{
			isAddress(at(0), stranger),
			{Loc: at(32), Op: opGTE, Values: [][32]byte{n(1)}},
			{Loc: at(32), Op: opLTE, Values: [][32]byte{n(1000)}},
			{Loc: at(0), Op: opNE, ValueKind: valueOwner},
			{Loc: at(32), Op: opNE, Values: [][32]byte{n(7)}},
			{Loc: at(32), Op: opIN, Values: [][32]byte{n(3), n(7), n(9)}},
		}},
		{Target: tokenC, Selector: selTransferFrom, Conditions: []condition{isOwner(at(32))}},
		{Target: tokenC, Selector: ping},
		{Target: tokenD, Selector: selTransfer},
	}
	cfg.SpendRules = append(erc20SpendRules(),
		// transferFrom's amount counted twice: two rules of one selector.
		spendRule{Selector: selTransferFrom, TokenKind: tokenTarget, Amount: at(64)})
	capA := minus(pow2(100), 2) // the largest cap with a 100-bit form
	capC, capD := big.NewInt(1500), pow2(110)
	cfg.TokenLimits = []tokenLimit{
		{Token: tokenA, PerTx: capA, PerPeriod: capA},
		{Token: tokenB, PerTx: minus(pow2(100), 1), PerPeriod: maxUint256},
		{Token: tokenC, PerTx: big.NewInt(1000), PerPeriod: capC},
		{Token: tokenD, PerTx: maxUint256, PerPeriod: capD},
	}
	e.grant(session.addr, cfg)

	left := func() []string { return bigs(e.remaining(session.addr).Amounts...) }
	wantLeft := func(what string, want ...*big.Int) {
		t.Helper()
		if diff := cmp.Diff(bigs(want...), left()); diff != "" {
			t.Errorf("%s: remaining A, B, C, D (-want +got):\n%s", what, diff)
		}
	}
	transfer := func(amount *big.Int) []byte { return tokenABI.PackTransfer(stranger, amount) }
	approve := func(spender common.Address, amount int64) []byte {
		return tokenABI.PackApprove(spender, big.NewInt(amount))
	}
	transferFrom := func(amount int64) []byte {
		return tokenABI.PackTransferFrom(stranger, owner, big.NewInt(amount))
	}
	leftD := new(big.Int).Sub(capD, pow2(109))

	// Caps at the edge of the compact form.
	e.execute(session, tokenA, nil, transfer(big.NewInt(5)))
	e.refuseExecute(session, tokenA, nil, transfer(minus(pow2(100), 1)),
		errData("TokenPerTxExceeded", tokenA, minus(pow2(100), 1), capA))
	e.refuseExecute(session, tokenA, nil, transfer(capA), errData("TokenBudgetExceeded", tokenA, plus(capA, 5), capA))
	e.execute(session, tokenA, nil, transfer(minus(capA, 5)))
	e.refuseExecute(session, tokenA, nil, transfer(big.NewInt(1)), errData("TokenBudgetExceeded", tokenA, plus(capA, 1), capA))

	// Caps past it.
	e.execute(session, tokenB, nil, transfer(minus(pow2(100), 1)))
	e.refuseExecute(session, tokenB, nil, transfer(pow2(100)), errData("TokenPerTxExceeded", tokenB, pow2(100), minus(pow2(100), 1)))
	e.execute(session, tokenD, nil, transfer(pow2(109)))
	e.refuseExecute(session, tokenD, nil, transfer(plus(pow2(109), 1)), errData("TokenBudgetExceeded", tokenD, plus(capD, 1), capD))
	wantLeft("after the edge caps", new(big.Int), maxUint256, capC, leftD)

	// Six conditions, each failing in turn; the spend rule of approve
	// still applies though the permission's head has no room for it.
	for _, c := range []struct {
		spender   common.Address
		amount    int64
		condition int64
	}{{owner, 3, 0}, {stranger, 0, 1}, {stranger, 1001, 2}, {stranger, 7, 4}, {stranger, 5, 5}} {
		e.refuseExecute(session, tokenC, nil, approve(c.spender, c.amount), errData("ConditionFailed", big.NewInt(2), big.NewInt(c.condition)))
	}
	e.execute(session, tokenC, nil, approve(stranger, 3))
	e.execute(session, tokenC, nil, approve(stranger, 9))
	wantLeft("after two approvals", new(big.Int), maxUint256, big.NewInt(1488), leftD)

	// Two rules of transferFrom: each call counts its amount twice.
	e.refuseExecute(session, tokenC, nil, transferFrom(600), errData("TokenPerTxExceeded", tokenC, big.NewInt(1200), big.NewInt(1000)))
	e.execute(session, tokenC, nil, transferFrom(400))
	e.refuseExecute(session, tokenC, nil, transferFrom(400), errData("TokenBudgetExceeded", tokenC, big.NewInt(1612), capC))

	// A selector without spend rules spends nothing.
	e.execute(session, tokenC, nil, ping[:])
	wantLeft("after transferFrom and ping", new(big.Int), maxUint256, big.NewInt(688), leftD)

	// A new period refills every cap, compact or not.
	if err := e.chain.AdjustTime(period * time.Second); err != nil {
		t.Fatal(err)
	}
	wantLeft("next period", capA, maxUint256, capC, capD)
	e.execute(session, tokenA, nil, transfer(capA))
	e.execute(session, tokenC, nil, transferFrom(500))
	e.execute(session, tokenD, nil, transfer(capD))
	wantLeft("next period, spent", new(big.Int), maxUint256, big.NewInt(500), new(big.Int))
	if got := e.sessionInfo(session.addr).Calls; got.Cmp(big.NewInt(11)) != 0 {
		t.Errorf("calls = %s, want 11", got)
	}
}
