package delegatetest

import (
	"bytes"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/contracts/bindings"
)

// The ERC-7201 slot of namespace agentkeys.delegate.v2, computed here from
// the formula rather than copied from the contract.
func storageSlot() common.Hash {
	h := new(big.Int).SetBytes(crypto.Keccak256([]byte("agentkeys.delegate.v2")))
	h.Sub(h, big.NewInt(1))
	slot := crypto.Keccak256(common.BigToHash(h).Bytes())
	slot[31] = 0
	return common.BytesToHash(slot)
}

func bigs(vs ...*big.Int) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

func usdc(e *env, whole int64) *big.Int { return e.usdc.Units(whole) }

func TestGrantStoresSessionInNamespace(t *testing.T) {
	e := newEnv(t, envConfig{})
	if ep := e.epoch(); ep != 0 {
		t.Fatalf("epoch() = %d, want 0", ep)
	}
	if got := e.sessionInfo(e.session.addr); got.Active || got.ValidUntil.Sign() != 0 {
		t.Fatalf("sessionInfo before any grant = %+v, want zeros", got)
	}

	cfg := e.swapConfig(swapPolicy{})
	r := e.grant(e.session.addr, cfg)
	want := []string{"SessionGranted(" + e.session.addr.Hex() + ", " + cfg.ValidAfter.String() + ", " + cfg.ValidUntil.String() + ", 0)"}
	if diff := cmp.Diff(want, e.logs(r)); diff != "" {
		t.Errorf("grant events (-want +got):\n%s", diff)
	}
	got := e.sessionInfo(e.session.addr)
	wantInfo := bindings.SessionInfoOutput{
		ValidAfter: cfg.ValidAfter, ValidUntil: cfg.ValidUntil, Epoch: 0, Active: true,
		Calls: new(big.Int), NativeSpentThisPeriod: new(big.Int),
	}
	if diff := cmp.Diff(wantInfo, got, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("sessionInfo after grant (-want +got):\n%s", diff)
	}

	// The namespace's first slot holds epoch (0) and lastGrantId (1, above
	// the 32 bits of epoch), at the owner's address; the implementation
	// contract itself holds nothing.
	slot := storageSlot()
	v, err := e.client.StorageAt(e.ctx, e.owner.addr, slot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := new(big.Int).SetBytes(v), new(big.Int).Lsh(big.NewInt(1), 32); got.Cmp(want) != 0 {
		t.Errorf("owner storage at ERC-7201 slot %s = %#x, want %#x", slot, got, want)
	}
	v, err = e.client.StorageAt(e.ctx, e.delegate, slot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if new(big.Int).SetBytes(v).Sign() != 0 {
		t.Errorf("implementation storage at %s = %x, want empty", slot, v)
	}
}

func TestAllowedCallsExecute(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 1000)))
	e.grant(e.session.addr, e.swapConfig(swapPolicy{
		maxValuePerCall: milliEther(1000), nativePerPeriod: milliEther(2000),
		usdcPerTx: usdc(e, 500), usdcPerPeriod: usdc(e, 1000),
	}))
	owner, session := e.owner.addr, e.session.addr

	t.Run("token swap", func(t *testing.T) {
		e := e.sub(t)
		path := []common.Address{e.usdc.Address, e.dai.Address}
		quote := e.quote(usdc(e, 100), path)
		usdcBefore, daiBefore := e.tokenBalance(e.usdc.Address, owner), e.tokenBalance(e.dai.Address, owner)
		sessionUSDC := e.tokenBalance(e.usdc.Address, session)

		r := e.execute(e.session, e.router, nil, e.swapTokens(usdc(e, 100), path, owner))

		wantLogs := []string{"Executed(" + session.Hex() + ", " + e.router.Hex() + ", 38ed1739, 0)"}
		if diff := cmp.Diff(wantLogs, e.logs(r)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		got := bigs(
			new(big.Int).Sub(usdcBefore, e.tokenBalance(e.usdc.Address, owner)),
			new(big.Int).Sub(e.tokenBalance(e.dai.Address, owner), daiBefore),
			e.tokenBalance(e.usdc.Address, session),
		)
		if diff := cmp.Diff(bigs(usdc(e, 100), quote, sessionUSDC), got); diff != "" {
			t.Errorf("owner USDC spent, owner DAI received, session USDC (-want +got):\n%s", diff)
		}
	})

	t.Run("ETH swap", func(t *testing.T) {
		e := e.sub(t)
		ethBefore, usdcBefore := e.ethBalance(owner), e.tokenBalance(e.usdc.Address, owner)
		quote := e.quote(milliEther(500), []common.Address{e.weth, e.usdc.Address})
		e.execute(e.session, e.router, milliEther(500), e.swapETH(e.usdc.Address, owner))
		// The session key pays the gas; the owner pays exactly the value.
		got := bigs(new(big.Int).Sub(ethBefore, e.ethBalance(owner)), new(big.Int).Sub(e.tokenBalance(e.usdc.Address, owner), usdcBefore))
		if diff := cmp.Diff(bigs(milliEther(500), quote), got); diff != "" {
			t.Errorf("owner ETH spent, USDC received (-want +got):\n%s", diff)
		}
	})

	t.Run("approve router", func(t *testing.T) {
		e := e.sub(t)
		e.execute(e.session, e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 50)))
		if got := e.allowance(e.usdc.Address, owner, e.router); got.Cmp(usdc(e, 50)) != 0 {
			t.Errorf("allowance = %s, want %s", got, usdc(e, 50))
		}
	})

	t.Run("views", func(t *testing.T) {
		e := e.sub(t)
		info := e.sessionInfo(session)
		if diff := cmp.Diff(bigs(big.NewInt(3), milliEther(500)), bigs(info.Calls, info.NativeSpentThisPeriod)); diff != "" || !info.Active {
			t.Errorf("sessionInfo calls, native spent (-want +got):\n%s active=%v", diff, info.Active)
		}
		rem := e.remaining(session)
		// 100 USDC swapped + 50 approved count against the 1000 USDC budget.
		if diff := cmp.Diff(bigs(milliEther(1500), usdc(e, 850)), bigs(append([]*big.Int{rem.Native}, rem.Amounts...)...)); diff != "" {
			t.Errorf("remaining native, USDC (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]common.Address{e.usdc.Address}, rem.Tokens); diff != "" {
			t.Errorf("remaining tokens (-want +got):\n%s", diff)
		}
	})

	t.Run("regrant resets usage", func(t *testing.T) {
		e := e.sub(t)
		e.grant(session, e.swapConfig(swapPolicy{nativePerPeriod: milliEther(2000), usdcPerPeriod: usdc(e, 1000)}))
		info, rem := e.sessionInfo(session), e.remaining(session)
		if diff := cmp.Diff(bigs(new(big.Int), new(big.Int), milliEther(2000), usdc(e, 1000)),
			bigs(info.Calls, info.NativeSpentThisPeriod, rem.Native, rem.Amounts[0])); diff != "" {
			t.Errorf("calls, native spent, remaining native, USDC after regrant (-want +got):\n%s", diff)
		}
	})
}

func TestExecuteBatch(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.grant(e.session.addr, e.swapConfig(swapPolicy{usdcPerTx: usdc(e, 200), usdcPerPeriod: usdc(e, 500)}))
	owner := e.owner.addr
	path := []common.Address{e.usdc.Address, e.dai.Address}

	t.Run("approve and swap", func(t *testing.T) {
		e := e.sub(t)
		usdcBefore := e.tokenBalance(e.usdc.Address, owner)
		r := e.mustSend(e.session, &owner, nil, delegateABI.PackExecuteBatch([]call{
			{Target: e.usdc.Address, Value: new(big.Int), Data: tokenABI.PackApprove(e.router, usdc(e, 100))},
			{Target: e.router, Value: new(big.Int), Data: e.swapTokens(usdc(e, 100), path, owner)},
		}))
		wantLogs := []string{
			"Executed(" + e.session.addr.Hex() + ", " + e.usdc.Address.Hex() + ", 095ea7b3, 0)",
			"Executed(" + e.session.addr.Hex() + ", " + e.router.Hex() + ", 38ed1739, 0)",
		}
		if diff := cmp.Diff(wantLogs, e.logs(r)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		spent := new(big.Int).Sub(usdcBefore, e.tokenBalance(e.usdc.Address, owner))
		rem := e.remaining(e.session.addr)
		info := e.sessionInfo(e.session.addr)
		if diff := cmp.Diff(bigs(usdc(e, 100), usdc(e, 300), big.NewInt(2)), bigs(spent, rem.Amounts[0], info.Calls)); diff != "" {
			t.Errorf("USDC swapped, USDC left (approve + swap counted), calls (-want +got):\n%s", diff)
		}
	})

	t.Run("one bad call reverts the batch", func(t *testing.T) {
		e := e.sub(t)
		allowanceBefore := e.allowance(e.usdc.Address, owner, e.router)
		batch := delegateABI.PackExecuteBatch([]call{
			{Target: e.usdc.Address, Value: new(big.Int), Data: tokenABI.PackApprove(e.router, usdc(e, 7))},
			{Target: e.usdc.Address, Value: new(big.Int), Data: tokenABI.PackTransfer(e.stranger.addr, usdc(e, 1))},
		})
		e.mustRefuse(e.session, owner, nil, batch, errData("NoPermission", e.usdc.Address, selTransfer))
		if got := e.allowance(e.usdc.Address, owner, e.router); got.Cmp(allowanceBefore) != 0 {
			t.Errorf("allowance after refused batch = %s, want unchanged %s", got, allowanceBefore)
		}
	})

	t.Run("a call that reverts reverts the batch", func(t *testing.T) {
		e := e.sub(t)
		// Allowed by the grant, but the router refuses an expired deadline.
		expired := routerABI.PackSwapExactTokensForTokens(usdc(e, 1), new(big.Int), path, owner, big.NewInt(1))
		batch := delegateABI.PackExecuteBatch([]call{
			{Target: e.usdc.Address, Value: new(big.Int), Data: tokenABI.PackApprove(e.router, usdc(e, 9))},
			{Target: e.router, Value: new(big.Int), Data: expired},
		})
		r := e.sendTx(e.signCall(e.session, &owner, nil, batch, refusedGas))
		got := e.revertData(r.TxHash)
		failed, err := delegateABI.UnpackCallFailedError(got[4:])
		if r.Status != types.ReceiptStatusFailed || err != nil || !bytes.Equal(got[:4], errData("CallFailed", []byte{})[:4]) {
			t.Fatalf("status %d, revert %s; want CallFailed", r.Status, errorName(got))
		}
		if reason := errorName(failed.Returndata); reason != `Error("DemoRouter: EXPIRED")` {
			t.Errorf("CallFailed wraps %s, want the router's EXPIRED", reason)
		}
	})

	t.Run("budget accumulates across the batch", func(t *testing.T) {
		e := e.sub(t)
		e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
		// 300 USDC are left; each swap is under the per-tx cap, two together
		// exceed what is left.
		info := e.sessionInfo(e.session.addr)
		batch := delegateABI.PackExecuteBatch([]call{
			{Target: e.router, Value: new(big.Int), Data: e.swapTokens(usdc(e, 200), path, owner)},
			{Target: e.router, Value: new(big.Int), Data: e.swapTokens(usdc(e, 101), path, owner)},
		})
		e.mustRefuse(e.session, owner, nil, batch, errData("TokenBudgetExceeded", e.usdc.Address, usdc(e, 501), usdc(e, 500)))
		if got := e.sessionInfo(e.session.addr).Calls; got.Cmp(info.Calls) != 0 {
			t.Errorf("calls after refused batch = %s, want %s", got, info.Calls)
		}
	})
}

// Each attack is sent by the session key (or a stranger) itself, so only
// the chain stands in the way.
func TestAttacksRefusedByChain(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	e.mustSend(e.owner, &e.dai.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	e.grant(e.session.addr, e.swapConfig(swapPolicy{
		maxValuePerCall: milliEther(1000), nativePerPeriod: milliEther(5000),
		usdcPerTx: usdc(e, 500), usdcPerPeriod: usdc(e, 1000),
	}))
	owner, stranger := e.owner.addr, e.stranger.addr
	usdcPath := []common.Address{e.usdc.Address, e.dai.Address}
	strangerUSDC, ownerUSDC, ownerETH := e.tokenBalance(e.usdc.Address, stranger), e.tokenBalance(e.usdc.Address, owner), e.ethBalance(owner)

	wide := e.fullAccess(maxUint256)
	swap := e.swapTokens(usdc(e, 100), usdcPath, owner)
	var hostileOffset []byte // the path offset word points far outside the calldata
	hostileOffset = append(hostileOffset, swap...)
	copy(hostileOffset[4+64:4+96], common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 255)).Bytes())

	tests := []struct {
		name   string
		target common.Address
		value  *big.Int
		data   []byte
		want   []byte
	}{
		{"USDC transfer to a stranger", e.usdc.Address, nil, tokenABI.PackTransfer(stranger, usdc(e, 1)),
			errData("NoPermission", e.usdc.Address, selTransfer)},
		{"swap paying a stranger", e.router, nil, e.swapTokens(usdc(e, 100), usdcPath, stranger),
			errData("ConditionFailed", big.NewInt(permSwapTokens), big.NewInt(0))},
		{"ETH swap paying a stranger", e.router, milliEther(100), e.swapETH(e.usdc.Address, stranger),
			errData("ConditionFailed", big.NewInt(permSwapETH), big.NewInt(0))},
		{"approve to a stranger", e.usdc.Address, nil, tokenABI.PackApprove(stranger, usdc(e, 1)),
			errData("ConditionFailed", big.NewInt(permApprove), big.NewInt(0))},
		{"plain ETH to a stranger", stranger, milliEther(1), nil,
			errData("NoPermission", stranger, [4]byte{})},
		{"grant itself more via execute on the owner", owner, nil, delegateABI.PackGrant(e.session.addr, wide),
			errData("NoPermission", owner, selGrant)},
		{"revokeAll via execute on the owner", owner, nil, delegateABI.PackRevokeAll(),
			errData("NoPermission", owner, [4]byte(delegateABI.PackRevokeAll()))},
		{"swap of an uncapped token", e.router, nil, e.swapTokens(e.dai.Units(100), []common.Address{e.dai.Address, e.usdc.Address}, owner),
			errData("UncappedToken", e.dai.Address)},
		{"swap above the per-tx cap", e.router, nil, e.swapTokens(usdc(e, 501), usdcPath, owner),
			errData("TokenPerTxExceeded", e.usdc.Address, usdc(e, 501), usdc(e, 500))},
		{"approve above the per-tx cap", e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256),
			errData("TokenPerTxExceeded", e.usdc.Address, maxUint256, usdc(e, 500))},
		{"value above the per-call cap", e.router, milliEther(1001), e.swapETH(e.usdc.Address, owner),
			errData("ValueTooHigh", milliEther(1001), milliEther(1000))},
		{"calldata shorter than a selector", e.router, nil, []byte{0x38, 0xed, 0x17},
			errData("BadCalldata")},
		{"arguments cut before the recipient", e.router, nil, swap[:4+96],
			errData("BadCalldata")},
		{"path offset outside the calldata", e.router, nil, hostileOffset,
			errData("BadCalldata")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			e.sub(t).refuseExecute(e.session, tt.target, tt.value, tt.data, tt.want)
		})
	}

	t.Run("grant itself more directly", func(t *testing.T) {
		e := e.sub(t)
		e.mustRefuse(e.session, owner, nil, delegateABI.PackGrant(e.session.addr, wide), errData("NotSelf"))
	})
	t.Run("batch hiding a call to the owner", func(t *testing.T) {
		e := e.sub(t)
		batch := delegateABI.PackExecuteBatch([]call{
			{Target: e.router, Value: new(big.Int), Data: swap},
			{Target: owner, Value: new(big.Int), Data: delegateABI.PackGrant(e.session.addr, wide)},
		})
		e.mustRefuse(e.session, owner, nil, batch, errData("NoPermission", owner, selGrant))
	})
	t.Run("stranger calls execute", func(t *testing.T) {
		e := e.sub(t)
		e.mustRefuse(e.stranger, owner, nil, delegateABI.PackExecute(e.router, new(big.Int), swap), errData("NotSession"))
		if ok, reason := e.check(stranger, e.router, new(big.Int), swap); ok || !bytes.Equal(reason, errData("NotSession")) {
			t.Errorf("check for a stranger = %v %s, want NotSession", ok, errorName(reason))
		}
	})

	// Nothing moved and no call was counted.
	got := bigs(e.tokenBalance(e.usdc.Address, stranger), e.tokenBalance(e.usdc.Address, owner), e.ethBalance(owner), e.sessionInfo(e.session.addr).Calls)
	if diff := cmp.Diff(bigs(strangerUSDC, ownerUSDC, ownerETH, new(big.Int)), got); diff != "" {
		t.Errorf("stranger USDC, owner USDC, owner ETH, calls after the attacks (-want +got):\n%s", diff)
	}
}

// A grant allowing any call to any target still never reaches the owner.
func TestFullAccessCannotReachOwner(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.grant(e.session.addr, e.fullAccess(usdc(e, 100)))
	owner := e.owner.addr
	wider := e.fullAccess(maxUint256)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"grant", delegateABI.PackGrant(e.session.addr, wider)},
		{"revoke", delegateABI.PackRevoke(e.session.addr)},
		{"execute", delegateABI.PackExecute(e.stranger.addr, new(big.Int), nil)},
		{"plain value", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			var sel [4]byte
			if len(tc.data) >= 4 {
				sel = [4]byte(tc.data)
			}
			e.refuseExecute(e.session, owner, nil, tc.data, errData("NoPermission", owner, sel))
		})
	}
	// Caps still hold: USDC up to 100, DAI not at all.
	e.execute(e.session, e.usdc.Address, nil, tokenABI.PackTransfer(e.stranger.addr, usdc(e, 60)))
	e.refuseExecute(e.session, e.usdc.Address, nil, tokenABI.PackTransfer(e.stranger.addr, usdc(e, 41)),
		errData("TokenBudgetExceeded", e.usdc.Address, usdc(e, 101), usdc(e, 100)))
	e.refuseExecute(e.session, e.dai.Address, nil, tokenABI.PackTransfer(e.stranger.addr, e.dai.Units(1)),
		errData("UncappedToken", e.dai.Address))
}

func TestPeriodCaps(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	owner := e.owner.addr
	const period = 3600
	e.grant(e.session.addr, e.swapConfig(swapPolicy{
		period:          period,
		maxValuePerCall: milliEther(300), nativePerPeriod: milliEther(1000),
		usdcPerTx: usdc(e, 100), usdcPerPeriod: usdc(e, 250),
	}))
	path := []common.Address{e.usdc.Address, e.dai.Address}

	t.Run("native", func(t *testing.T) {
		e := e.sub(t)
		before := e.ethBalance(owner)
		for range 4 {
			e.execute(e.session, e.router, milliEther(250), e.swapETH(e.usdc.Address, owner))
		}
		e.refuseExecute(e.session, e.router, milliEther(250), e.swapETH(e.usdc.Address, owner),
			errData("NativeBudgetExceeded", milliEther(1250), milliEther(1000)))
		e.refuseExecute(e.session, e.router, big.NewInt(1), e.swapETH(e.usdc.Address, owner),
			errData("NativeBudgetExceeded", new(big.Int).Add(milliEther(1000), big.NewInt(1)), milliEther(1000)))
		got := bigs(new(big.Int).Sub(before, e.ethBalance(owner)), e.sessionInfo(e.session.addr).NativeSpentThisPeriod, e.remaining(e.session.addr).Native)
		if diff := cmp.Diff(bigs(milliEther(1000), milliEther(1000), new(big.Int)), got); diff != "" {
			t.Errorf("owner ETH spent, native spent, native left (-want +got):\n%s", diff)
		}
	})

	t.Run("USDC", func(t *testing.T) {
		e := e.sub(t)
		before := e.tokenBalance(e.usdc.Address, owner)
		e.execute(e.session, e.router, nil, e.swapTokens(usdc(e, 100), path, owner))
		e.execute(e.session, e.router, nil, e.swapTokens(usdc(e, 100), path, owner))
		e.refuseExecute(e.session, e.router, nil, e.swapTokens(usdc(e, 100), path, owner),
			errData("TokenBudgetExceeded", e.usdc.Address, usdc(e, 300), usdc(e, 250)))
		e.execute(e.session, e.router, nil, e.swapTokens(usdc(e, 50), path, owner)) // exactly the cap
		e.refuseExecute(e.session, e.router, nil, e.swapTokens(big.NewInt(1), path, owner),
			errData("TokenBudgetExceeded", e.usdc.Address, new(big.Int).Add(usdc(e, 250), big.NewInt(1)), usdc(e, 250)))
		got := bigs(new(big.Int).Sub(before, e.tokenBalance(e.usdc.Address, owner)), e.remaining(e.session.addr).Amounts[0])
		if diff := cmp.Diff(bigs(usdc(e, 250), new(big.Int)), got); diff != "" {
			t.Errorf("owner USDC spent, USDC left (-want +got):\n%s", diff)
		}
	})

	t.Run("next period", func(t *testing.T) {
		e := e.sub(t)
		if err := e.chain.AdjustTime(period * time.Second); err != nil {
			t.Fatal(err)
		}
		rem := e.remaining(e.session.addr)
		if diff := cmp.Diff(bigs(milliEther(1000), usdc(e, 250)), bigs(rem.Native, rem.Amounts[0])); diff != "" {
			t.Errorf("remaining native, USDC in the next period (-want +got):\n%s", diff)
		}
		e.execute(e.session, e.router, milliEther(250), e.swapETH(e.usdc.Address, owner))
		e.execute(e.session, e.router, nil, e.swapTokens(usdc(e, 100), path, owner))
		info := e.sessionInfo(e.session.addr)
		if diff := cmp.Diff(bigs(big.NewInt(9), milliEther(250)), bigs(info.Calls, info.NativeSpentThisPeriod)); diff != "" {
			t.Errorf("calls, native spent this period (-want +got):\n%s", diff)
		}
	})

	t.Run("max calls", func(t *testing.T) {
		e := e.sub(t)
		other := e.funded()
		e.grant(other.addr, e.swapConfig(swapPolicy{maxCalls: 2}))
		e.execute(other, e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 1)))
		e.execute(other, e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 1)))
		e.refuseExecute(other, e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 1)), errData("TooManyCalls"))
	})
}

func TestValidityWindow(t *testing.T) {
	e := newEnv(t, envConfig{})
	approve := tokenABI.PackApprove(e.router, usdc(e, 1))
	now := e.head().Time
	e.grant(e.session.addr, e.swapConfig(swapPolicy{validAfter: now + 600, validUntil: now + 1200}))

	e.refuseExecute(e.session, e.usdc.Address, nil, approve, errData("NotYetValid"))
	if err := e.chain.AdjustTime(600 * time.Second); err != nil {
		t.Fatal(err)
	}
	e.execute(e.session, e.usdc.Address, nil, approve)
	if err := e.chain.AdjustTime(600 * time.Second); err != nil {
		t.Fatal(err)
	}
	e.refuseExecute(e.session, e.usdc.Address, nil, approve, errData("Expired"))
	info, rem := e.sessionInfo(e.session.addr), e.remaining(e.session.addr)
	if info.Active || rem.Native.Sign() != 0 || rem.Amounts[0].Sign() != 0 {
		t.Errorf("after expiry: active=%v, remaining native %s, USDC %s; want inactive and zeros", info.Active, rem.Native, rem.Amounts[0])
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	other := e.funded()
	approve := tokenABI.PackApprove(e.router, usdc(e, 1))
	e.grant(e.session.addr, e.swapConfig(swapPolicy{}))
	e.grant(other.addr, e.swapConfig(swapPolicy{}))
	e.execute(e.session, e.usdc.Address, nil, approve)

	t.Run("revoke one", func(t *testing.T) {
		e := e.sub(t)
		r := e.mustSend(e.owner, &owner, nil, delegateABI.PackRevoke(e.session.addr))
		if diff := cmp.Diff([]string{"SessionRevoked(" + e.session.addr.Hex() + ")"}, e.logs(r)); diff != "" {
			t.Errorf("revoke events (-want +got):\n%s", diff)
		}
		e.refuseExecute(e.session, e.usdc.Address, nil, approve, errData("Revoked"))
		e.execute(other, e.usdc.Address, nil, approve) // the other session is untouched
		if e.sessionInfo(e.session.addr).Active {
			t.Error("sessionInfo: revoked session still active")
		}
	})

	t.Run("grant again", func(t *testing.T) {
		e := e.sub(t)
		e.grant(e.session.addr, e.swapConfig(swapPolicy{}))
		e.execute(e.session, e.usdc.Address, nil, approve)
	})

	t.Run("revoke all", func(t *testing.T) {
		e := e.sub(t)
		r := e.mustSend(e.owner, &owner, nil, delegateABI.PackRevokeAll())
		if diff := cmp.Diff([]string{"AllSessionsRevoked(1)"}, e.logs(r)); diff != "" {
			t.Errorf("revokeAll events (-want +got):\n%s", diff)
		}
		if ep := e.epoch(); ep != 1 {
			t.Errorf("epoch() = %d, want 1", ep)
		}
		e.refuseExecute(e.session, e.usdc.Address, nil, approve, errData("Revoked"))
		e.refuseExecute(other, e.usdc.Address, nil, approve, errData("Revoked"))

		// A grant after revokeAll belongs to the new epoch and works.
		r = e.grant(other.addr, e.swapConfig(swapPolicy{}))
		if got := e.logs(r)[0]; !bytes.HasSuffix([]byte(got), []byte(", 1)")) {
			t.Errorf("grant after revokeAll: %s, want epoch 1", got)
		}
		e.execute(other, e.usdc.Address, nil, approve)
		e.refuseExecute(e.session, e.usdc.Address, nil, approve, errData("Revoked"))
	})
}

func TestOwnerOnlyFunctionsRefuseOthers(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	e.grant(e.session.addr, e.swapConfig(swapPolicy{}))
	for _, a := range []*account{e.stranger, e.session} {
		for _, tc := range []struct {
			name string
			data []byte
		}{
			{"grant", delegateABI.PackGrant(a.addr, e.fullAccess(maxUint256))},
			{"revoke", delegateABI.PackRevoke(e.session.addr)},
			{"revokeAll", delegateABI.PackRevokeAll()},
		} {
			e.mustRefuse(a, owner, nil, tc.data, errData("NotSelf"))
		}
	}
	if ep, sa, xa := e.epoch(), e.sessionInfo(e.session.addr).Active, e.sessionInfo(e.stranger.addr).Active; ep != 0 || !sa || xa {
		t.Errorf("after the attempts: epoch %d, session active %v, stranger active %v; want 0, true, false", ep, sa, xa)
	}
}

// The owner's signed grant is bound to its chain by EIP-155 (and the
// delegation by its authorization's chain id): replayed on a chain with
// another id, with the same accounts, contract address and nonces, it is
// rejected.
func TestGrantReplayOnAnotherChain(t *testing.T) {
	a := newEnv(t, envConfig{})
	a.grant(a.session.addr, a.swapConfig(swapPolicy{}))
	signed := a.lastGrant
	if signed.ChainId().Uint64() != 31337 {
		t.Fatalf("grant signed for chain %s, want 31337", signed.ChainId())
	}

	b := newEnv(t, envConfig{chainID: 1338, deployer: a.deployer, owner: a.owner, session: a.session, stranger: a.stranger})
	if b.delegate != a.delegate {
		t.Fatalf("delegate at %s on 1338 and %s on 31337; the replay needs the same address", b.delegate, a.delegate)
	}
	if n := b.nonce(b.owner.addr); n != signed.Nonce() {
		t.Fatalf("owner nonce on 1338 = %d, grant nonce %d; the replay needs them equal", n, signed.Nonce())
	}
	if err := b.client.SendTransaction(b.ctx, signed); err == nil {
		t.Fatal("chain 1338 accepted the grant signed for 31337")
	} else {
		t.Logf("chain 1338 rejected the replayed grant: %v", err)
	}
	if _, err := b.chain.Commit(); err != nil {
		t.Fatal(err)
	}
	if info := b.sessionInfo(b.session.addr); info.Active || info.ValidUntil.Sign() != 0 {
		t.Errorf("sessionInfo on 1338 = %+v, want no grant", info)
	}
	if n := b.nonce(b.owner.addr); n != signed.Nonce() {
		t.Errorf("owner nonce on 1338 moved to %d", n)
	}
	b.mustRefuse(b.session, b.owner.addr, nil, delegateABI.PackExecute(b.usdc.Address, new(big.Int), tokenABI.PackApprove(b.router, big.NewInt(1))), errData("NotSession"))
}

// The delegated owner still receives plain ether, from an EOA and from a
// contract (WETH9's withdraw forwards with a 2300-gas stipend).
func TestOwnerStillReceivesETH(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	before := e.ethBalance(owner)
	r := e.mustSend(e.stranger, &owner, milliEther(1000), nil)
	if got := new(big.Int).Sub(e.ethBalance(owner), before); got.Cmp(milliEther(1000)) != 0 {
		t.Errorf("owner received %s, want 1 ETH", got)
	}
	t.Logf("plain transfer to the delegated owner used %d gas", r.GasUsed)

	// The owner wraps and unwraps itself: WETH sends the ether back to a
	// delegated account with only the stipend.
	wethABI := bindings.NewWETH9()
	e.mustSend(e.owner, &e.weth, milliEther(10), wethABI.PackDeposit())
	before = e.ethBalance(owner)
	r = e.mustSend(e.owner, &e.weth, nil, wethABI.PackWithdraw(milliEther(10)))
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	if got := new(big.Int).Sub(e.ethBalance(owner), before); got.Cmp(new(big.Int).Sub(milliEther(10), fee)) != 0 {
		t.Errorf("withdraw credited %s, want 0.01 ETH minus fee %s", got, fee)
	}
}

func TestInvalidConfigRefused(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	base := func() sessionConfig { return e.swapConfig(swapPolicy{}) }
	withCond := func(c condition) sessionConfig {
		cfg := base()
		cfg.Permissions = []permission{{Target: e.router, Selector: selSwapTokens, Conditions: []condition{c}}}
		return cfg
	}
	one := [][32]byte{{1}}
	tests := []struct {
		name    string
		session common.Address
		cfg     sessionConfig
	}{
		{"empty window", e.session.addr, func() sessionConfig { c := base(); c.ValidUntil = c.ValidAfter; return c }()},
		{"zero session", common.Address{}, base()},
		{"owner as session", owner, base()},
		{"unknown operator", e.session.addr, withCond(condition{Loc: at(0), Op: 8, Values: one})},
		{"unknown value kind", e.session.addr, withCond(condition{Loc: at(0), Op: opEQ, ValueKind: 3})},
		{"EQ without a value", e.session.addr, withCond(condition{Loc: at(0), Op: opEQ})},
		{"LT with two values", e.session.addr, withCond(condition{Loc: at(0), Op: opLT, Values: [][32]byte{{1}, {2}}})},
		{"IN without values", e.session.addr, withCond(condition{Loc: at(0), Op: opIN})},
		{"$owner with a value", e.session.addr, withCond(condition{Loc: at(0), Op: opEQ, ValueKind: valueOwner, Values: one})},
		{"$session with LT", e.session.addr, withCond(condition{Loc: at(0), Op: opLT, ValueKind: valueSession})},
		{"permission on the owner", e.session.addr, func() sessionConfig {
			c := base()
			c.Permissions = append(c.Permissions, permission{Target: owner, AnySelector: true})
			return c
		}()},
		{"any and empty calldata", e.session.addr, func() sessionConfig {
			c := base()
			c.Permissions = append(c.Permissions, permission{Target: e.router, AnySelector: true, EmptyCalldata: true})
			return c
		}()},
		{"conditions on empty calldata", e.session.addr, func() sessionConfig {
			c := base()
			c.Permissions = append(c.Permissions, permission{Target: e.router, EmptyCalldata: true, Conditions: []condition{isOwner(at(0))}})
			return c
		}()},
		{"unknown token kind", e.session.addr, func() sessionConfig {
			c := base()
			c.SpendRules = append(c.SpendRules, spendRule{Selector: selTransfer, TokenKind: 5})
			return c
		}()},
		{"token limit for address zero", e.session.addr, func() sessionConfig {
			c := base()
			c.TokenLimits = append(c.TokenLimits, tokenLimit{PerTx: big.NewInt(1), PerPeriod: big.NewInt(1)})
			return c
		}()},
		{"two limits for one token", e.session.addr, func() sessionConfig {
			c := base()
			c.TokenLimits = append(c.TokenLimits, c.TokenLimits[0])
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			e.mustRefuse(e.owner, owner, nil, delegateABI.PackGrant(tt.session, tt.cfg), errData("InvalidConfig"))
		})
	}
	if info := e.sessionInfo(e.session.addr); info.ValidUntil.Sign() != 0 {
		t.Errorf("a refused grant left %+v", info)
	}
}
