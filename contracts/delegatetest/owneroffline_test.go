package delegatetest

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/onchain"
)

// The owner-offline mode (issue 13): the owner's key never reaches the
// daemon. The owner signs each grant as EIP-712 typed data, built in Go by
// internal/onchain as the daemon will build it; anyone submits it with
// grantWithSignature; a session key ends its own grant with revokeSelf.
// Every refusal asserted here is the chain's, in a transaction sent by the
// account named.

// signedGrant is a grant with the signature presented for it.
type signedGrant struct {
	cfg sessionConfig // the config the owner signed, in the bindings' form
	onchain.SignedGrant
	sig []byte
}

// toConfig is cfg in internal/onchain's form, sharing no memory with cfg.
func toConfig(cfg sessionConfig) onchain.Config {
	l := func(x loc) onchain.Loc { return onchain.Loc{Head: x.Head, Indirect: x.Indirect, Inner: x.Inner} }
	c := onchain.Config{
		ValidAfter: cfg.ValidAfter.Uint64(), ValidUntil: cfg.ValidUntil.Uint64(), Period: cfg.Period,
		MaxValuePerCall: cfg.MaxValuePerCall, NativePerPeriod: cfg.NativePerPeriod, MaxCalls: cfg.MaxCalls,
	}
	for _, p := range cfg.Permissions {
		op := onchain.Permission{Target: p.Target, Selector: p.Selector, AnySelector: p.AnySelector, EmptyCalldata: p.EmptyCalldata}
		for _, cd := range p.Conditions {
			op.Conditions = append(op.Conditions, onchain.Condition{Loc: l(cd.Loc), Op: cd.Op, Signed: cd.Signed, ValueKind: cd.ValueKind,
				Values: append([][32]byte(nil), cd.Values...)})
		}
		c.Permissions = append(c.Permissions, op)
	}
	for _, r := range cfg.SpendRules {
		c.SpendRules = append(c.SpendRules, onchain.SpendRule{Selector: r.Selector, TokenKind: r.TokenKind, Token: l(r.Token), Amount: l(r.Amount)})
	}
	for _, t := range cfg.TokenLimits {
		c.TokenLimits = append(c.TokenLimits, onchain.TokenLimit{Token: t.Token, PerTx: t.PerTx, PerPeriod: t.PerPeriod})
	}
	return c
}

// grantOf is a grant of cfg to session in the current epoch, to be
// submitted within the hour.
func (e *env) grantOf(session common.Address, cfg sessionConfig, stipend *big.Int, nonce uint64) onchain.SignedGrant {
	e.t.Helper()
	return onchain.SignedGrant{Session: session, Config: toConfig(cfg), Stipend: stipend, Epoch: e.epoch(), Nonce: nonce, Deadline: e.head().Time + 3600}
}

// signGrant is signer's signature of a grant of cfg to session (see grantOf).
func (e *env) signGrant(signer *account, session common.Address, cfg sessionConfig, stipend *big.Int, nonce uint64) signedGrant {
	e.t.Helper()
	return e.signAs(signer, cfg, e.grantOf(session, cfg, stipend, nonce))
}

// signAs signs g, hashed in Go for this chain and the owner's account, with
// signer's key. cfg is the config g holds.
func (e *env) signAs(signer *account, cfg sessionConfig, g onchain.SignedGrant) signedGrant {
	e.t.Helper()
	return signedGrant{cfg: cfg, SignedGrant: g, sig: sign65(e.t, signer, e.digest(g, e.chain.ChainID(), e.owner.addr))}
}

func (e *env) digest(g onchain.SignedGrant, chainID *big.Int, account common.Address) common.Hash {
	e.t.Helper()
	h, err := g.Digest(chainID, account)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// tampered is s with f applied to a copy of its grant after signing; the
// signature stays.
func (s signedGrant) tampered(f func(g *onchain.SignedGrant)) signedGrant {
	g := s.SignedGrant
	g.Config = toConfig(s.cfg)
	f(&g)
	return signedGrant{cfg: s.cfg, SignedGrant: g, sig: s.sig}
}

// withSig is s presented with another signature.
func (s signedGrant) withSig(sig []byte) signedGrant {
	s.sig = sig
	return s
}

func (e *env) packSigned(s signedGrant) []byte {
	e.t.Helper()
	data, err := onchain.PackGrantWithSignature(s.SignedGrant, s.sig)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}

// submit sends s's grantWithSignature from a, which must succeed.
func (e *env) submit(a *account, s signedGrant) *types.Receipt {
	e.t.Helper()
	return e.mustSend(a, &e.owner.addr, nil, e.packSigned(s))
}

// refuseSubmit asserts that the chain refuses s, sent by a, with want, and
// that the refusal consumed no nonce.
func (e *env) refuseSubmit(a *account, s signedGrant, want []byte) {
	e.t.Helper()
	used := e.nonceUsed(s.Nonce)
	e.mustRefuse(a, e.owner.addr, nil, e.packSigned(s), want)
	if e.nonceUsed(s.Nonce) != used {
		e.t.Errorf("a refused grant changed whether nonce %d is used", s.Nonce)
	}
}

// hashGrant is the contract's digest of s at the owner's account.
func (e *env) hashGrant(s signedGrant) common.Hash {
	e.t.Helper()
	return e.hashGrantAt(e.owner.addr, s)
}

func (e *env) hashGrantAt(account common.Address, s signedGrant) common.Hash {
	e.t.Helper()
	out, err := bind.Call(delegateABI.Instance(e.client, account), e.opts(),
		delegateABI.PackHashGrant(s.Session, s.cfg, orZero(s.Stipend), s.Epoch, s.Nonce, s.Deadline), delegateABI.UnpackHashGrant)
	if err != nil {
		e.t.Fatalf("hashGrant: %v%s", err, e.explain(err))
	}
	return out
}

func (e *env) nonceUsed(nonce uint64) bool {
	e.t.Helper()
	used, err := bind.Call(e.instance(), e.opts(), delegateABI.PackNonceUsed(nonce), delegateABI.UnpackNonceUsed)
	if err != nil {
		e.t.Fatalf("nonceUsed: %v", err)
	}
	return used
}

func (e *env) nextNonce() *big.Int {
	e.t.Helper()
	n, err := bind.Call(e.instance(), e.opts(), delegateABI.PackNextNonce(), delegateABI.UnpackNextNonce)
	if err != nil {
		e.t.Fatalf("nextNonce: %v", err)
	}
	return n
}

// revokeSelf sends revokeSelf() from a, which must succeed.
func (e *env) revokeSelf(a *account) *types.Receipt {
	e.t.Helper()
	return e.mustSend(a, &e.owner.addr, nil, onchain.PackRevokeSelf())
}

func granted(session common.Address, cfg sessionConfig, epoch uint32) string {
	return fmt.Sprintf("SessionGranted(%s, %s, %s, %d)", session.Hex(), cfg.ValidAfter, cfg.ValidUntil, epoch)
}

// richConfig uses every kind of field the typed data has: every operator
// and value kind, signed comparisons, indirect locations, any target, any
// and empty calldata, spend rules of every token kind, several token
// limits, caps beyond 2^100, a call cap and one window for the session.
func (e *env) richConfig() sessionConfig {
	e.t.Helper()
	n := func(v int64) [32]byte { return wordInt(big.NewInt(v)) }
	cfg := e.swapConfig(swapPolicy{maxCalls: 5, decoys: 3})
	cfg.Period = 0
	cfg.MaxValuePerCall = new(big.Int).Lsh(big.NewInt(1), 120)
	cfg.Permissions = append(cfg.Permissions,
		permission{Target: e.dai.Address, Selector: selTransfer, Conditions: []condition{
			{Loc: at(0), Op: opIN, Values: [][32]byte{word(e.owner.addr), word(e.session.addr), word(e.stranger.addr)}},
			{Loc: at(32), Op: opLT, Signed: true, Values: [][32]byte{n(-7)}},
			{Loc: in(0, 32), Op: opNOTIN, ValueKind: valueSession},
			{Loc: at(64), Op: opGTE, Values: [][32]byte{n(3)}},
			{Loc: at(96), Op: opNE, ValueKind: valueOwner},
		}},
		permission{AnySelector: true},
		permission{Target: e.stranger.addr, EmptyCalldata: true},
	)
	cfg.SpendRules = append(cfg.SpendRules,
		spendRule{Selector: selector("exactInput((bytes,address,uint256,uint256))"), TokenKind: tokenBytesFirst, Token: in(0, 0), Amount: in(0, 64)},
		spendRule{Selector: selector("exactOutput((bytes,address,uint256,uint256))"), TokenKind: tokenBytesLast, Token: in(0, 0), Amount: in(0, 96)},
		spendRule{Selector: selector("deposit(address,uint256)"), TokenKind: tokenAddress, Token: at(0), Amount: at(32)},
	)
	cfg.TokenLimits = append(cfg.TokenLimits,
		tokenLimit{Token: e.dai.Address, PerTx: new(big.Int).Lsh(big.NewInt(1), 200), PerPeriod: maxUint256},
		tokenLimit{Token: e.weth, PerTx: big.NewInt(0), PerPeriod: big.NewInt(1)},
	)
	return cfg
}

// The digest internal/onchain computes (go-ethereum's generic EIP-712
// encoder over the typed data a wallet is given) is the one the contract
// computes with its own encoder, for every shape of grant, after a JSON
// round trip of the typed data, and on another account.
func TestOwnerOfflineDigestMatchesContract(t *testing.T) {
	e := newEnv(t, envConfig{})
	empty := e.swapConfig(swapPolicy{})
	empty.Permissions, empty.SpendRules, empty.TokenLimits = []permission{}, []spendRule{}, []tokenLimit{}
	configs := []struct {
		name string
		cfg  sessionConfig
	}{
		{"swap-only", e.swapConfig(swapPolicy{usdcPerTx: usdc(e, 100), usdcPerPeriod: usdc(e, 1000)})},
		{"30 permissions, 28 on one key", e.swapConfig(swapPolicy{decoys: 27, sameKeyDecoys: true})},
		{"full access", e.fullAccess(usdc(e, 5))},
		{"every field kind", e.richConfig()},
		{"empty lists", empty},
	}
	// A second account delegated to the same implementation: the digest
	// names the account it is for.
	other := e.funded()
	e.delegateTo(other, e.delegate)

	for i, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			e := e.sub(t)
			g := e.grantOf(e.session.addr, c.cfg, milliEther(int64(i)), uint64(i)<<40|7)
			g.Epoch, g.Deadline = 3, 1<<63
			s := signedGrant{cfg: c.cfg, SignedGrant: g}
			want := e.digest(g, e.chain.ChainID(), e.owner.addr)
			if got := e.hashGrant(s); got != want {
				t.Errorf("contract's hashGrant = %s, Go's digest = %s", got, want)
			}
			if got, want := e.hashGrantAt(other.addr, s), e.digest(g, e.chain.ChainID(), other.addr); got != want {
				t.Errorf("on another account: contract's hashGrant = %s, Go's digest = %s", got, want)
			}
			if want == e.digest(g, e.chain.ChainID(), other.addr) || want == e.digest(g, big.NewInt(1), e.owner.addr) {
				t.Error("the digest does not depend on the account or the chain id")
			}
		})
	}

	t.Run("domain", func(t *testing.T) {
		e := e.sub(t)
		d, err := bind.Call(e.instance(), e.opts(), delegateABI.PackEip712Domain(), delegateABI.UnpackEip712Domain)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%x %s %s %s %s %x %v", d.Fields, d.Name, d.Version, d.ChainId, d.VerifyingContract, d.Salt, d.Extensions)
		want := fmt.Sprintf("%x %s %s %s %s %x %v", [1]byte{0x0f}, onchain.GrantDomainName, onchain.GrantDomainVersion, e.chain.ChainID(), e.owner.addr, [32]byte{}, []*big.Int{})
		if got != want {
			t.Errorf("eip712Domain() = %s, want %s", got, want)
		}
	})
}

// (a) A grant the owner signed, submitted by anyone, registers exactly what
// the owner's own grant would; the session can then do what was granted and
// nothing more. A stipend in the signed grant pays a fresh session key's gas
// and counts against its native budget.
func TestOwnerOfflineGrantBySignature(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner, stranger := e.owner.addr, e.stranger.addr
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	relayer := e.funded()
	cfg := e.swapConfig(swapPolicy{
		maxValuePerCall: milliEther(200), nativePerPeriod: milliEther(500),
		usdcPerTx: usdc(e, 100), usdcPerPeriod: usdc(e, 150),
	})

	// The session key submits its own grant; the same config is granted to
	// a twin by the owner's own transaction.
	bySig, byOwner := e.funded(), e.funded()
	s := e.signGrant(e.owner, bySig.addr, cfg, nil, 0)
	if got, want := e.hashGrant(s), e.digest(s.SignedGrant, e.chain.ChainID(), owner); got != want {
		t.Fatalf("contract's hashGrant = %s, Go's digest = %s", got, want)
	}
	r := e.submit(bySig, s)
	if diff := cmp.Diff([]string{granted(bySig.addr, cfg, 0)}, e.logs(r)); diff != "" {
		t.Errorf("grantWithSignature events (-want +got):\n%s", diff)
	}
	e.grant(byOwner.addr, cfg)

	path := []common.Address{e.usdc.Address, e.dai.Address}
	calls := []struct {
		name   string
		target common.Address
		value  *big.Int
		data   []byte
		want   string
	}{
		{"approve the router", e.usdc.Address, nil, tokenABI.PackApprove(e.router, usdc(e, 10)), ""},
		{"approve a stranger", e.usdc.Address, nil, tokenABI.PackApprove(stranger, usdc(e, 10)), errorName(errData("ConditionFailed", big.NewInt(permApprove), big.NewInt(0)))},
		{"transfer", e.usdc.Address, nil, tokenABI.PackTransfer(stranger, big.NewInt(1)), errorName(errData("NoPermission", e.usdc.Address, selTransfer))},
		{"swap for the owner", e.router, nil, e.swapTokens(usdc(e, 100), path, owner), ""},
		{"swap above the per-tx cap", e.router, nil, e.swapTokens(usdc(e, 101), path, owner), errorName(errData("TokenPerTxExceeded", e.usdc.Address, usdc(e, 101), usdc(e, 100)))},
		{"swap for a stranger", e.router, nil, e.swapTokens(usdc(e, 1), path, stranger), errorName(errData("ConditionFailed", big.NewInt(permSwapTokens), big.NewInt(0)))},
		{"ETH swap", e.router, milliEther(200), e.swapETH(e.usdc.Address, owner), ""},
		{"ETH swap above the per-call cap", e.router, milliEther(201), e.swapETH(e.usdc.Address, owner), errorName(errData("ValueTooHigh", milliEther(201), milliEther(200)))},
		{"ETH to a stranger", stranger, milliEther(1), nil, errorName(errData("NoPermission", stranger, [4]byte{}))},
		{"swap of an uncapped token", e.router, nil, e.swapTokens(e.dai.Units(1), []common.Address{e.dai.Address, e.usdc.Address}, owner), errorName(errData("UncappedToken", e.dai.Address))},
	}
	judge := func(session common.Address) []string {
		var out []string
		for _, c := range calls {
			ok, reason := e.check(session, c.target, c.value, c.data)
			if ok {
				out = append(out, c.name+": allowed")
			} else {
				out = append(out, c.name+": "+errorName(reason))
			}
		}
		return out
	}
	var want []string
	for _, c := range calls {
		if c.want == "" {
			want = append(want, c.name+": allowed")
		} else {
			want = append(want, c.name+": "+c.want)
		}
	}
	if diff := cmp.Diff(want, judge(bySig.addr)); diff != "" {
		t.Errorf("signed grant's decisions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(judge(byOwner.addr), judge(bySig.addr)); diff != "" {
		t.Errorf("signed grant vs the owner's grant (-owner's +signed):\n%s", diff)
	}
	infoSig, infoOwner := e.sessionInfo(bySig.addr), e.sessionInfo(byOwner.addr)
	if diff := cmp.Diff(bigs(infoOwner.ValidAfter, infoOwner.ValidUntil, e.remaining(byOwner.addr).Native, e.remaining(byOwner.addr).Amounts[0]),
		bigs(infoSig.ValidAfter, infoSig.ValidUntil, e.remaining(bySig.addr).Native, e.remaining(bySig.addr).Amounts[0])); diff != "" || !infoSig.Active {
		t.Errorf("validity, native and USDC left: signed vs the owner's grant (-owner's +signed):\n%s active=%v", diff, infoSig.Active)
	}
	e.execute(bySig, e.router, nil, e.swapTokens(usdc(e, 100), path, owner))
	e.refuseExecute(bySig, e.router, nil, e.swapTokens(usdc(e, 51), path, owner),
		errData("TokenBudgetExceeded", e.usdc.Address, usdc(e, 151), usdc(e, 150)))

	t.Run("a relayer submits a fresh key's grant with a stipend", func(t *testing.T) {
		e := e.sub(t)
		fresh := newAccount(t) // no ETH at all
		stipend := milliEther(50)
		s := e.signGrant(e.owner, fresh.addr, cfg, stipend, 1)
		ownerETH, relayerETH := e.ethBalance(owner), e.ethBalance(relayer.addr)
		r := e.submit(relayer, s)
		fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
		got := bigs(new(big.Int).Sub(ownerETH, e.ethBalance(owner)), e.ethBalance(fresh.addr), new(big.Int).Sub(relayerETH, e.ethBalance(relayer.addr)))
		if diff := cmp.Diff(bigs(stipend, stipend, fee), got); diff != "" {
			t.Errorf("owner paid, session key holds, relayer paid (-want +got):\n%s", diff)
		}
		// The stipend counts against the native budget: 450 of 500 left.
		if got := e.remaining(fresh.addr).Native; got.Cmp(milliEther(450)) != 0 {
			t.Errorf("native left = %s, want 0.45 ETH", got)
		}
		// The key pays its own gas from the stipend.
		e.execute(fresh, e.router, milliEther(200), e.swapETH(e.usdc.Address, owner))
		e.execute(fresh, e.router, milliEther(200), e.swapETH(e.usdc.Address, owner))
		e.refuseExecute(fresh, e.router, milliEther(100), e.swapETH(e.usdc.Address, owner),
			errData("NativeBudgetExceeded", milliEther(550), milliEther(500)))
		if diff := cmp.Diff("true 2", fmt.Sprint(e.nonceUsed(1), e.nextNonce())); diff != "" {
			t.Errorf("nonceUsed(1), nextNonce() (-want +got):\n%s", diff)
		}
	})

	t.Run("EIP-2098 compact signature", func(t *testing.T) {
		e := e.sub(t)
		fresh := newAccount(t)
		s := e.signGrant(e.owner, fresh.addr, cfg, nil, 2)
		e.submit(relayer, s.withSig(compact(s.sig)))
		if !e.sessionInfo(fresh.addr).Active {
			t.Error("grant with a compact signature: session not active")
		}
	})
}

// (b) Whatever is not exactly what the owner signed, for this chain and
// this account, in this epoch, before its deadline and once, is refused.
func TestOwnerOfflineRefusals(t *testing.T) {
	e := newEnv(t, envConfig{})
	relayer := e.funded()
	cfg := e.swapConfig(swapPolicy{maxValuePerCall: milliEther(100), nativePerPeriod: milliEther(200), usdcPerTx: usdc(e, 10), usdcPerPeriod: usdc(e, 20)})
	nonce := uint64(100)
	next := func() uint64 { nonce++; return nonce }
	fresh := func() common.Address { return newAccount(t).addr }
	byOwner := func(g onchain.SignedGrant) signedGrant { return e.signAs(e.owner, cfg, g) }
	badSig := errData("BadSignature")

	// One grant, tampered with in each field after the owner signed it.
	base := e.signGrant(e.owner, fresh(), cfg, milliEther(10), next())
	noCap := func() *big.Int { return new(big.Int).Set(maxUint256) }
	tampers := []struct {
		name string
		f    func(g *onchain.SignedGrant)
	}{
		{"session", func(g *onchain.SignedGrant) { g.Session = fresh() }},
		{"stipend", func(g *onchain.SignedGrant) { g.Stipend = milliEther(11) }},
		{"nonce", func(g *onchain.SignedGrant) { g.Nonce++ }},
		{"deadline", func(g *onchain.SignedGrant) { g.Deadline += 86400 }},
		{"validAfter", func(g *onchain.SignedGrant) { g.Config.ValidAfter-- }},
		{"validUntil", func(g *onchain.SignedGrant) { g.Config.ValidUntil += 365 * 86400 }},
		{"period", func(g *onchain.SignedGrant) { g.Config.Period *= 2 }},
		{"maxValuePerCall", func(g *onchain.SignedGrant) { g.Config.MaxValuePerCall = noCap() }},
		{"nativePerPeriod", func(g *onchain.SignedGrant) { g.Config.NativePerPeriod = noCap() }},
		{"maxCalls (narrower)", func(g *onchain.SignedGrant) { g.Config.MaxCalls = big.NewInt(1) }},
		{"permission target", func(g *onchain.SignedGrant) { g.Config.Permissions[permApprove].Target = e.dai.Address }},
		{"permission selector", func(g *onchain.SignedGrant) { g.Config.Permissions[permApprove].Selector = selTransfer }},
		{"permission anySelector", func(g *onchain.SignedGrant) { g.Config.Permissions[permApprove].AnySelector = true }},
		{"permission emptyCalldata", func(g *onchain.SignedGrant) {
			g.Config.Permissions[permApprove].EmptyCalldata, g.Config.Permissions[permApprove].Conditions = true, nil
		}},
		{"conditions dropped", func(g *onchain.SignedGrant) { g.Config.Permissions[permSwapTokens].Conditions = nil }},
		{"condition op", func(g *onchain.SignedGrant) { g.Config.Permissions[permSwapTokens].Conditions[0].Op = opNE }},
		{"condition signed_", func(g *onchain.SignedGrant) { g.Config.Permissions[permApprove].Conditions[0].Signed = true }},
		{"condition valueKind", func(g *onchain.SignedGrant) {
			g.Config.Permissions[permSwapTokens].Conditions[0].ValueKind = valueSession
		}},
		{"condition value", func(g *onchain.SignedGrant) { g.Config.Permissions[permApprove].Conditions[0].Values[0][31] ^= 1 }},
		{"condition value added", func(g *onchain.SignedGrant) {
			c := &g.Config.Permissions[permApprove].Conditions[0]
			c.Op, c.Values = opIN, append(c.Values, word(e.stranger.addr))
		}},
		{"condition loc head", func(g *onchain.SignedGrant) { g.Config.Permissions[permSwapTokens].Conditions[0].Loc.Head = 128 }},
		{"condition loc indirect", func(g *onchain.SignedGrant) { g.Config.Permissions[permSwapTokens].Conditions[0].Loc.Indirect = true }},
		{"condition loc inner", func(g *onchain.SignedGrant) { g.Config.Permissions[permSwapTokens].Conditions[0].Loc.Inner = 32 }},
		{"permission added", func(g *onchain.SignedGrant) {
			g.Config.Permissions = append(g.Config.Permissions, onchain.Permission{Target: e.usdc.Address, Selector: selTransfer})
		}},
		{"permission dropped", func(g *onchain.SignedGrant) { g.Config.Permissions = g.Config.Permissions[1:] }},
		{"spend rule dropped", func(g *onchain.SignedGrant) { g.Config.SpendRules = g.Config.SpendRules[1:] }},
		{"spend rule token kind", func(g *onchain.SignedGrant) { g.Config.SpendRules[3].TokenKind = tokenAddress }},
		{"spend rule amount loc", func(g *onchain.SignedGrant) { g.Config.SpendRules[0].Amount.Head = 0 }},
		{"token limit perTx", func(g *onchain.SignedGrant) { g.Config.TokenLimits[0].PerTx = noCap() }},
		{"token limit perPeriod", func(g *onchain.SignedGrant) { g.Config.TokenLimits[0].PerPeriod = usdc(e, 21) }},
		{"token limit token", func(g *onchain.SignedGrant) { g.Config.TokenLimits[0].Token = e.dai.Address }},
		{"token limit added", func(g *onchain.SignedGrant) {
			g.Config.TokenLimits = append(g.Config.TokenLimits, onchain.TokenLimit{Token: e.dai.Address, PerTx: noCap(), PerPeriod: noCap()})
		}},
	}
	for _, tc := range tampers {
		t.Run("tampered "+tc.name, func(t *testing.T) {
			e.sub(t).refuseSubmit(relayer, base.tampered(tc.f), badSig)
		})
	}

	signedFor := func(chainID *big.Int, account common.Address) signedGrant {
		g := e.grantOf(fresh(), cfg, nil, next())
		return signedGrant{cfg: cfg, SignedGrant: g, sig: sign65(t, e.owner, e.digest(g, chainID, account))}
	}
	expired := e.grantOf(fresh(), cfg, nil, next())
	expired.Deadline = e.head().Time - 1
	nextEpoch := e.grantOf(fresh(), cfg, nil, next())
	nextEpoch.Epoch++
	bigStipend := e.grantOf(fresh(), cfg, milliEther(201), next())
	invalid := e.grantOf(fresh(), cfg, nil, next())
	invalid.Config.ValidUntil = invalid.Config.ValidAfter
	ok := byOwner(e.grantOf(fresh(), cfg, nil, next()))
	refusals := []struct {
		name string
		s    signedGrant
		want []byte
	}{
		{"signed by a stranger", e.signGrant(e.stranger, fresh(), cfg, nil, next()), badSig},
		{"signed by the session key itself", func() signedGrant {
			g := e.grantOf(e.session.addr, cfg, nil, next())
			return e.signAs(e.session, cfg, g)
		}(), badSig},
		{"signed for chain id 1", signedFor(big.NewInt(1), e.owner.addr), badSig},
		{"signed for the implementation's address", signedFor(e.chain.ChainID(), e.delegate), badSig},
		{"malleable twin (high s)", ok.withSig(twin(ok.sig)), badSig},
		{"v other than 27 and 28", ok.withSig(append(ok.sig[:64:64], 1)), badSig},
		{"63-byte signature", ok.withSig(ok.sig[:63]), badSig},
		{"no signature", ok.withSig(nil), badSig},
		{"deadline passed", byOwner(expired), errData("SignatureExpired")},
		{"another epoch", byOwner(nextEpoch), errData("StaleEpoch")},
		{"stipend above the native cap", byOwner(bigStipend), errData("InvalidConfig")},
		{"invalid config, signed", byOwner(invalid), errData("InvalidConfig")},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			e.refuseSubmit(relayer, tc.s, tc.want)
			if info := e.sessionInfo(tc.s.Session); info.ValidUntil.Sign() != 0 {
				t.Errorf("a refused grant registered %s: %+v", tc.s.Session, info)
			}
		})
	}

	t.Run("once", func(t *testing.T) {
		e := e.sub(t)
		// The grant every tampered copy came from was never used up.
		e.submit(relayer, base)
		e.refuseSubmit(relayer, base, errData("SessionExists"))
		// Another grant the owner signed with the same nonce.
		e.refuseSubmit(relayer, e.signGrant(e.owner, fresh(), cfg, nil, base.Nonce), errData("NonceUsed"))
		e.submit(relayer, ok)
	})
}

// Nonces are unordered: any unused one is accepted once, in any order;
// nextNonce is above every nonce used.
func TestOwnerOfflineNonces(t *testing.T) {
	e := newEnv(t, envConfig{})
	relayer := e.funded()
	cfg := e.swapConfig(swapPolicy{})
	if n := e.nextNonce(); n.Sign() != 0 {
		t.Fatalf("nextNonce() = %s before any grant, want 0", n)
	}
	const last = ^uint64(0)
	var next []string
	for _, n := range []uint64{7, 3, 256, last, 0} {
		e.submit(relayer, e.signGrant(e.owner, newAccount(t).addr, cfg, nil, n))
		next = append(next, e.nextNonce().String())
	}
	if diff := cmp.Diff([]string{"8", "8", "257", "18446744073709551616", "18446744073709551616"}, next); diff != "" {
		t.Errorf("nextNonce() after each grant (-want +got):\n%s", diff)
	}
	var used []string
	for _, n := range []uint64{0, 1, 3, 4, 7, 8, 255, 256, 257, last - 1, last} {
		used = append(used, fmt.Sprintf("%d:%v", n, e.nonceUsed(n)))
	}
	want := []string{"0:true", "1:false", "3:true", "4:false", "7:true", "8:false", "255:false", "256:true", "257:false", "18446744073709551614:false", "18446744073709551615:true"}
	if diff := cmp.Diff(want, used); diff != "" {
		t.Errorf("nonceUsed (-want +got):\n%s", diff)
	}
	e.refuseSubmit(relayer, e.signGrant(e.owner, newAccount(t).addr, cfg, nil, 3), errData("NonceUsed"))
}

// (c) A thief with everything the daemon holds in this mode (every session
// key, the relayer account it pays gas with, every grant the owner signed)
// but not the owner's key gets nothing beyond what the owner signed.
func TestOwnerOfflineStolenDaemon(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	e.mustSend(e.owner, &e.usdc.Address, nil, tokenABI.PackApprove(e.router, maxUint256))
	relayer := e.funded()
	narrow := e.swapConfig(swapPolicy{maxValuePerCall: milliEther(10), nativePerPeriod: milliEther(60), maxCalls: 20, usdcPerTx: usdc(e, 50), usdcPerPeriod: usdc(e, 100)})
	wide := e.fullAccess(maxUint256)

	// The owner signed a wide grant for s1, thought better of it and signed
	// a narrow one, which the daemon submitted; a grant for s2 and one for
	// s3 were signed but not yet submitted when the thief struck.
	s1, s2, s3 := e.funded(), e.funded(), e.funded()
	wideS1 := e.signGrant(e.owner, s1.addr, wide, nil, 1)
	narrowS1 := e.signGrant(e.owner, s1.addr, narrow, milliEther(50), 2)
	e.submit(relayer, narrowS1)
	pendingS2 := e.signGrant(e.owner, s2.addr, narrow, nil, 3)
	pendingS3 := e.signGrant(e.owner, s3.addr, narrow, nil, 4)

	thief := e.funded() // a key of the thief's own, for a session it would like
	ownerETH, ownerUSDC, ownerDAI := e.ethBalance(owner), e.tokenBalance(e.usdc.Address, owner), e.tokenBalance(e.dai.Address, owner)
	thiefUSDC := e.tokenBalance(e.usdc.Address, thief.addr)
	badSig := errData("BadSignature")
	selGrantWithSignature := [4]byte(delegateABI.GetABI().Methods["grantWithSignature"].ID)

	t.Run("grant a new session", func(t *testing.T) {
		e := e.sub(t)
		// Signed by a key the thief holds.
		for _, signer := range []*account{s1, relayer, thief} {
			e.refuseSubmit(relayer, e.signGrant(signer, thief.addr, wide, nil, 10), badSig)
		}
		// The owner's signature of another grant, presented for the thief's
		// key: a used one, then with an unused nonce too.
		e.refuseSubmit(relayer, narrowS1.tampered(func(g *onchain.SignedGrant) { g.Session = thief.addr }), errData("NonceUsed"))
		e.refuseSubmit(relayer, narrowS1.tampered(func(g *onchain.SignedGrant) { g.Session, g.Nonce = thief.addr, 11 }), badSig)
		e.refuseSubmit(relayer, pendingS2.tampered(func(g *onchain.SignedGrant) { g.Session = thief.addr }), badSig)
		// The owner-only path, directly and through a session.
		e.mustRefuse(s1, owner, nil, delegateABI.PackGrant(thief.addr, wide), errData("NotSelf"))
		e.mustRefuse(relayer, owner, nil, delegateABI.PackGrant(thief.addr, wide), errData("NotSelf"))
		e.refuseExecute(s1, owner, nil, e.packSigned(pendingS2.tampered(func(g *onchain.SignedGrant) { g.Session = thief.addr })),
			errData("NoPermission", owner, selGrantWithSignature))
		if info := e.sessionInfo(thief.addr); info.ValidUntil.Sign() != 0 {
			t.Errorf("thief's key has a grant: %+v", info)
		}
	})

	t.Run("widen s1", func(t *testing.T) {
		e := e.sub(t)
		// The owner's own older, wider signature for s1.
		e.refuseSubmit(relayer, wideS1, errData("SessionExists"))
		// s1's grant with full access in place of its permissions.
		wider := narrowS1.tampered(func(g *onchain.SignedGrant) { g.Config.Permissions = toConfig(wide).Permissions })
		e.refuseSubmit(relayer, wider, errData("SessionExists"))
		// The same for s2, whose key has no grant yet.
		e.refuseSubmit(relayer, pendingS2.tampered(func(g *onchain.SignedGrant) { g.Config.Permissions = toConfig(wide).Permissions }), badSig)
		e.mustRefuse(s1, owner, nil, delegateABI.PackGrant(s1.addr, wide), errData("NotSelf"))
	})

	t.Run("raise a cap", func(t *testing.T) {
		e := e.sub(t)
		for name, f := range map[string]func(g *onchain.SignedGrant){
			"USDC per period": func(g *onchain.SignedGrant) { g.Config.TokenLimits[0].PerPeriod = maxUint256 },
			"USDC per tx":     func(g *onchain.SignedGrant) { g.Config.TokenLimits[0].PerTx = usdc(e, 51) },
			"native":          func(g *onchain.SignedGrant) { g.Config.NativePerPeriod = milliEther(1000) },
			"stipend":         func(g *onchain.SignedGrant) { g.Stipend = milliEther(60) },
			"calls":           func(g *onchain.SignedGrant) { g.Config.MaxCalls = big.NewInt(0) }, // 0: unlimited
		} {
			t.Run(name, func(t *testing.T) { e.sub(t).refuseSubmit(relayer, pendingS2.tampered(f), badSig) })
		}
	})

	t.Run("extend validity", func(t *testing.T) {
		e := e.sub(t)
		e.refuseSubmit(relayer, pendingS2.tampered(func(g *onchain.SignedGrant) { g.Config.ValidUntil += 365 * 86400 }), badSig)
		e.refuseSubmit(relayer, pendingS2.tampered(func(g *onchain.SignedGrant) { g.Config.ValidAfter -= 86400 }), badSig)
		e.refuseSubmit(relayer, pendingS2.tampered(func(g *onchain.SignedGrant) { g.Deadline += 365 * 86400 }), badSig)
	})

	t.Run("spend beyond the grant", func(t *testing.T) {
		e := e.sub(t)
		path := []common.Address{e.usdc.Address, e.dai.Address}
		e.refuseExecute(s1, e.usdc.Address, nil, tokenABI.PackTransfer(thief.addr, usdc(e, 1)), errData("NoPermission", e.usdc.Address, selTransfer))
		e.refuseExecute(s1, e.router, nil, e.swapTokens(usdc(e, 1), path, thief.addr), errData("ConditionFailed", big.NewInt(permSwapTokens), big.NewInt(0)))
		e.refuseExecute(s1, e.usdc.Address, nil, tokenABI.PackApprove(thief.addr, usdc(e, 1)), errData("ConditionFailed", big.NewInt(permApprove), big.NewInt(0)))
		e.refuseExecute(s1, thief.addr, milliEther(1), nil, errData("NoPermission", thief.addr, [4]byte{}))
		// 50 of the 60 native were the stipend: 10 are left for calls.
		e.refuseExecute(s1, e.router, milliEther(10), e.swapETH(e.usdc.Address, thief.addr), errData("ConditionFailed", big.NewInt(permSwapETH), big.NewInt(0)))
	})

	t.Run("what the owner signed still works", func(t *testing.T) {
		e := e.sub(t)
		e.submit(relayer, pendingS2)
		if !e.sessionInfo(s2.addr).Active {
			t.Error("the owner's pending grant for s2 did not register")
		}
	})

	t.Run("after the owner's revokeAll", func(t *testing.T) {
		e := e.sub(t)
		r := e.mustSend(e.owner, &owner, nil, delegateABI.PackRevokeAll())
		// The owner pays for its own transaction; nothing else leaves it.
		ownerETH.Sub(ownerETH, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
		approve := tokenABI.PackApprove(e.router, usdc(e, 1))
		e.refuseExecute(s1, e.usdc.Address, nil, approve, errData("Revoked"))
		e.refuseExecute(s2, e.usdc.Address, nil, approve, errData("Revoked"))
		e.refuseSubmit(relayer, pendingS3, errData("StaleEpoch"))
		e.refuseSubmit(relayer, pendingS3.tampered(func(g *onchain.SignedGrant) { g.Epoch = 1 }), badSig)
		e.refuseSubmit(relayer, wideS1.tampered(func(g *onchain.SignedGrant) { g.Session = thief.addr }), errData("StaleEpoch"))
		e.refuseSubmit(relayer, wideS1.tampered(func(g *onchain.SignedGrant) { g.Session, g.Epoch = thief.addr, 1 }), badSig)
	})

	got := bigs(e.ethBalance(owner), e.tokenBalance(e.usdc.Address, owner), e.tokenBalance(e.dai.Address, owner), e.tokenBalance(e.usdc.Address, thief.addr))
	if diff := cmp.Diff(bigs(ownerETH, ownerUSDC, ownerDAI, thiefUSDC), got); diff != "" {
		t.Errorf("owner ETH, USDC, DAI and thief's USDC after the attacks (-before +after):\n%s", diff)
	}
	if ep := e.epoch(); ep != 1 {
		t.Errorf("epoch() = %d, want 1 (the owner's one revokeAll)", ep)
	}
}

// (d) The owner's revokeAll, sent from the owner's own wallet, ends every
// session, however it was registered, and voids every grant signed but not
// yet submitted; grants signed after it work.
func TestOwnerOfflineRevokeAll(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	relayer := e.funded()
	cfg := e.swapConfig(swapPolicy{})
	approve := tokenABI.PackApprove(e.router, usdc(e, 1))
	s1, s2, s3, s4 := e.funded(), e.funded(), e.funded(), e.funded()
	e.submit(relayer, e.signGrant(e.owner, s1.addr, cfg, nil, 0))
	e.grant(s2.addr, cfg)
	pending := e.signGrant(e.owner, s3.addr, cfg, nil, 1)
	e.execute(s1, e.usdc.Address, nil, approve)
	e.execute(s2, e.usdc.Address, nil, approve)

	r := e.mustSend(e.owner, &owner, nil, delegateABI.PackRevokeAll())
	if diff := cmp.Diff([]string{"AllSessionsRevoked(1)"}, e.logs(r)); diff != "" {
		t.Errorf("revokeAll events (-want +got):\n%s", diff)
	}
	e.refuseExecute(s1, e.usdc.Address, nil, approve, errData("Revoked"))
	e.refuseExecute(s2, e.usdc.Address, nil, approve, errData("Revoked"))
	e.refuseSubmit(relayer, pending, errData("StaleEpoch"))
	if e.sessionInfo(s1.addr).Active || e.sessionInfo(s2.addr).Active || e.sessionInfo(s3.addr).ValidUntil.Sign() != 0 {
		t.Error("after revokeAll: a session is still active, or the pending grant registered")
	}

	s := e.signGrant(e.owner, s4.addr, cfg, nil, 2)
	if s.Epoch != 1 {
		t.Fatalf("grant signed in epoch %d, want 1", s.Epoch)
	}
	r = e.submit(relayer, s)
	if diff := cmp.Diff([]string{granted(s4.addr, cfg, 1)}, e.logs(r)); diff != "" {
		t.Errorf("grant after revokeAll (-want +got):\n%s", diff)
	}
	e.execute(s4, e.usdc.Address, nil, approve)
}

// (e) A session key ends its own grant, and only its own; a grant the owner
// signed for it earlier cannot bring it back.
func TestOwnerOfflineRevokeSelf(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	relayer := e.funded()
	cfg := e.swapConfig(swapPolicy{})
	approve := tokenABI.PackApprove(e.router, usdc(e, 1))
	s1, s2, s3 := e.funded(), e.funded(), e.funded()
	e.submit(relayer, e.signGrant(e.owner, s1.addr, cfg, nil, 0))
	again := e.signGrant(e.owner, s1.addr, cfg, nil, 1) // signed, kept by the daemon
	e.submit(relayer, e.signGrant(e.owner, s2.addr, cfg, nil, 2))
	now := e.head().Time
	later := e.swapConfig(swapPolicy{validAfter: now + 600, validUntil: now + 1200})
	e.submit(relayer, e.signGrant(e.owner, s3.addr, later, nil, 3))

	r := e.revokeSelf(s1)
	if diff := cmp.Diff([]string{"SessionRevoked(" + s1.addr.Hex() + ")"}, e.logs(r)); diff != "" {
		t.Errorf("revokeSelf events (-want +got):\n%s", diff)
	}
	e.refuseExecute(s1, e.usdc.Address, nil, approve, errData("Revoked"))
	e.execute(s2, e.usdc.Address, nil, approve)
	e.refuseSubmit(relayer, again, errData("SessionExists"))

	// A session not yet valid can give up its grant too.
	e.revokeSelf(s3)
	if err := e.chain.AdjustTime(600 * time.Second); err != nil {
		t.Fatal(err)
	}
	e.refuseExecute(s3, e.usdc.Address, nil, approve, errData("Revoked"))

	// Without a grant there is nothing to revoke; through execute a session
	// cannot make the owner's account call anything, revokeSelf included.
	e.mustRefuse(e.stranger, owner, nil, onchain.PackRevokeSelf(), errData("NotSession"))
	e.mustRefuse(e.owner, owner, nil, onchain.PackRevokeSelf(), errData("NotSession"))
	e.refuseExecute(s2, owner, nil, onchain.PackRevokeSelf(), errData("NoPermission", owner, [4]byte(onchain.PackRevokeSelf())))

	if info := e.sessionInfo(s2.addr); !info.Active || info.Calls.Int64() != 1 {
		t.Errorf("s2 after the others' revocations: active %v, calls %s; want active, 1", info.Active, info.Calls)
	}
	if ep := e.epoch(); ep != 0 {
		t.Errorf("epoch() = %d, want 0", ep)
	}
}

// The owner's signature binds its chain: the same accounts, contract
// address, epoch and unused nonce on a chain with another id refuse it.
func TestOwnerOfflineReplayOnAnotherChain(t *testing.T) {
	a := newEnv(t, envConfig{})
	b := newEnv(t, envConfig{chainID: 1338, deployer: a.deployer, owner: a.owner, session: a.session, stranger: a.stranger})
	if b.delegate != a.delegate {
		t.Fatalf("delegate at %s on 1338 and %s on 31337; the replay needs the same address", b.delegate, a.delegate)
	}
	s := a.signGrant(a.owner, a.session.addr, a.swapConfig(swapPolicy{}), nil, 0)
	a.submit(a.stranger, s)
	b.refuseSubmit(b.stranger, s, errData("BadSignature"))
	if info := b.sessionInfo(b.session.addr); info.ValidUntil.Sign() != 0 || b.nonceUsed(0) {
		t.Errorf("on chain 1338: session %+v, nonce 0 used %v; want neither", info, b.nonceUsed(0))
	}
}

// Gas of registering a grant: the owner's own grant() against
// grantWithSignature from a relayer (go test -v -run
// TestOwnerOfflineGrantGas ./contracts/delegatetest). Both register the
// same sessions.
func TestOwnerOfflineGrantGas(t *testing.T) {
	e := newEnv(t, envConfig{})
	relayer := e.funded()
	// The first nonce of every 256 sets a fresh storage word; measure the
	// usual case.
	e.submit(relayer, e.signGrant(e.owner, newAccount(t).addr, e.swapConfig(swapPolicy{}), nil, 0))
	nonce := uint64(0)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-16s %12s %22s %32s\n", "", "grant()", "grantWithSignature()", "grantWithSignature(), stipend")
	for _, decoys := range []int{0, 27} {
		cfg := e.swapConfig(swapPolicy{decoys: decoys, nativePerPeriod: milliEther(100)})
		byOwner, bySig, withStipend := newAccount(t).addr, newAccount(t).addr, newAccount(t).addr
		direct := e.grant(byOwner, cfg).GasUsed
		nonce++
		signed := e.submit(relayer, e.signGrant(e.owner, bySig, cfg, nil, nonce)).GasUsed
		nonce++
		stipend := e.submit(relayer, e.signGrant(e.owner, withStipend, cfg, milliEther(5), nonce)).GasUsed
		fmt.Fprintf(&b, "%-16s %12d %12d (%+7d) %22d (%+7d)\n", fmt.Sprintf("%d permissions", len(cfg.Permissions)),
			direct, signed, int64(signed)-int64(direct), stipend, int64(stipend)-int64(direct))

		swap := e.swapTokens(usdc(e, 1), []common.Address{e.usdc.Address, e.dai.Address}, e.owner.addr)
		for _, s := range []common.Address{bySig, withStipend} {
			if ok, reason := e.check(s, e.router, nil, swap); !ok || e.sessionInfo(s).ValidUntil.Cmp(e.sessionInfo(byOwner).ValidUntil) != 0 {
				t.Errorf("%d permissions: signed grant of %s: check %v %s, validity unlike the owner's grant", len(cfg.Permissions), s, ok, errorName(reason))
			}
		}
		if signed <= direct {
			t.Errorf("%d permissions: grantWithSignature %d gas <= grant %d: the signature cannot be free", len(cfg.Permissions), signed, direct)
		}
	}
	t.Log(b.String())
}
