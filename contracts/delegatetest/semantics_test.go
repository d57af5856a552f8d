package delegatetest

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/google/go-cmp/cmp"
)

// Every operator and value kind, judged by check() against one grant.
func TestConditionOperators(t *testing.T) {
	e := newEnv(t, envConfig{})
	target := common.HexToAddress("0x00000000000000000000000000000000000c0de5")
	owner, session, stranger := e.owner.addr, e.session.addr, e.stranger.addr
	n := func(v int64) [32]byte { return wordInt(big.NewInt(v)) }
	neg := func(v int64) [32]byte { return common.BytesToHash(math256(big.NewInt(v))) }
	dirty := word(owner)
	dirty[0] = 1 // the owner's address with a bit set above the 160th

	conds := []struct {
		name string
		c    condition
	}{
		{"EQ 100", condition{Op: opEQ, Values: [][32]byte{n(100)}}},
		{"NE 100", condition{Op: opNE, Values: [][32]byte{n(100)}}},
		{"LT 100", condition{Op: opLT, Values: [][32]byte{n(100)}}},
		{"LTE 100", condition{Op: opLTE, Values: [][32]byte{n(100)}}},
		{"GT 100", condition{Op: opGT, Values: [][32]byte{n(100)}}},
		{"GTE 100", condition{Op: opGTE, Values: [][32]byte{n(100)}}},
		{"LT 0 unsigned", condition{Op: opLT, Values: [][32]byte{n(0)}}},
		{"LT 0 signed", condition{Op: opLT, Signed: true, Values: [][32]byte{n(0)}}},
		{"GT -5 signed", condition{Op: opGT, Signed: true, Values: [][32]byte{neg(-5)}}},
		{"GTE -5 signed", condition{Op: opGTE, Signed: true, Values: [][32]byte{neg(-5)}}},
		{"LTE -5 signed", condition{Op: opLTE, Signed: true, Values: [][32]byte{neg(-5)}}},
		{"IN 1 2 3", condition{Op: opIN, Values: [][32]byte{n(1), n(2), n(3)}}},
		{"NOT_IN 1 2 3", condition{Op: opNOTIN, Values: [][32]byte{n(1), n(2), n(3)}}},
		{"EQ $session", condition{Op: opEQ, ValueKind: valueSession}},
		{"NE $owner", condition{Op: opNE, ValueKind: valueOwner}},
		{"IN $owner", condition{Op: opIN, ValueKind: valueOwner}},
		{"NOT_IN $session", condition{Op: opNOTIN, ValueKind: valueSession}},
		{"EQ $owner", condition{Op: opEQ, ValueKind: valueOwner}},
		{"dup EQ 1", condition{Op: opEQ, Values: [][32]byte{n(1)}}},
		{"dup EQ 2", condition{Op: opEQ, Values: [][32]byte{n(2)}}}, // same selector as "dup EQ 1"
	}
	index := map[string]int{}
	sel := func(name string) [4]byte {
		if strings.HasPrefix(name, "dup") {
			return selector("dup(uint256)")
		}
		return selector(fmt.Sprintf("f%d(uint256)", index[name]))
	}
	cfg := e.swapConfig(swapPolicy{})
	cfg.Permissions = nil
	for i, c := range conds {
		index[c.name] = i
		c.c.Loc = at(0)
		cfg.Permissions = append(cfg.Permissions, permission{Target: target, Selector: sel(c.name), Conditions: []condition{c.c}})
	}
	cfg.Permissions = append(cfg.Permissions, permission{Target: stranger, EmptyCalldata: true})
	e.grant(session, cfg)

	tests := []struct {
		cond string
		arg  [32]byte
		ok   bool
	}{
		{"EQ 100", n(100), true}, {"EQ 100", n(101), false},
		{"NE 100", n(101), true}, {"NE 100", n(100), false},
		{"LT 100", n(99), true}, {"LT 100", n(100), false},
		{"LTE 100", n(100), true}, {"LTE 100", n(101), false},
		{"GT 100", n(101), true}, {"GT 100", n(100), false},
		{"GTE 100", n(100), true}, {"GTE 100", n(99), false},
		{"LT 0 unsigned", neg(-1), false},
		{"LT 0 signed", neg(-1), true}, {"LT 0 signed", n(0), false},
		{"GT -5 signed", neg(-4), true}, {"GT -5 signed", neg(-5), false}, {"GT -5 signed", n(7), true},
		{"GTE -5 signed", neg(-5), true}, {"GTE -5 signed", neg(-6), false},
		{"LTE -5 signed", neg(-5), true}, {"LTE -5 signed", n(0), false},
		{"IN 1 2 3", n(3), true}, {"IN 1 2 3", n(4), false},
		{"NOT_IN 1 2 3", n(4), true}, {"NOT_IN 1 2 3", n(1), false},
		{"EQ $session", word(session), true}, {"EQ $session", word(owner), false},
		{"NE $owner", word(stranger), true}, {"NE $owner", word(owner), false},
		{"IN $owner", word(owner), true}, {"IN $owner", word(stranger), false},
		{"NOT_IN $session", word(owner), true}, {"NOT_IN $session", word(session), false},
		{"EQ $owner", word(owner), true}, {"EQ $owner", dirty, false},
		// Two permissions share a selector: either may allow the call, and
		// when neither does the first failure is reported.
		{"dup EQ 1", n(1), true}, {"dup EQ 2", n(2), true}, {"dup EQ 1", n(3), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%x", tt.cond, tt.arg), func(t *testing.T) {
			e := e.sub(t)
			s := sel(tt.cond)
			data := append(s[:], tt.arg[:]...)
			want := []byte(nil)
			if !tt.ok {
				want = errData("ConditionFailed", big.NewInt(int64(index[tt.cond])), new(big.Int))
			}
			ok, reason := e.check(session, target, nil, data)
			if ok != tt.ok || !bytes.Equal(reason, want) {
				t.Errorf("check = %v %s, want %v %s", ok, errorName(reason), tt.ok, errorName(want))
			}
		})
	}

	t.Run("no argument to read", func(t *testing.T) {
		e := e.sub(t)
		s := sel("EQ 100")
		if ok, reason := e.check(session, target, nil, s[:]); ok || !bytes.Equal(reason, errData("BadCalldata")) {
			t.Errorf("check of a call without its argument = %v %s, want BadCalldata", ok, errorName(reason))
		}
	})
	t.Run("empty calldata only", func(t *testing.T) {
		e := e.sub(t)
		if ok, reason := e.check(session, stranger, milliEther(1), nil); !ok {
			t.Errorf("plain value to the allowed payee refused: %s", errorName(reason))
		}
		data := tokenABI.PackTransfer(owner, big.NewInt(1))
		if ok, reason := e.check(session, stranger, nil, data); ok || !bytes.Equal(reason, errData("NoPermission", stranger, selTransfer)) {
			t.Errorf("calldata to an empty-calldata-only payee = %v %s, want NoPermission", ok, errorName(reason))
		}
	})
}

// math256 is v in two's complement on 256 bits.
func math256(v *big.Int) []byte {
	if v.Sign() >= 0 {
		return common.BigToHash(v).Bytes()
	}
	return common.BigToHash(new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 256), v)).Bytes()
}

// A Uniswap-V3-router-like interface: arguments in dynamic tuples (one
// level of indirection), packed bytes paths, and a static tuple.
const v3ABI = `[
{"type":"function","name":"exactInput","inputs":[{"name":"params","type":"tuple","components":[
  {"name":"path","type":"bytes"},{"name":"recipient","type":"address"},{"name":"deadline","type":"uint256"},
  {"name":"amountIn","type":"uint256"},{"name":"amountOutMinimum","type":"uint256"}]}]},
{"type":"function","name":"exactOutput","inputs":[{"name":"params","type":"tuple","components":[
  {"name":"path","type":"bytes"},{"name":"recipient","type":"address"},{"name":"deadline","type":"uint256"},
  {"name":"amountOut","type":"uint256"},{"name":"amountInMaximum","type":"uint256"}]}]},
{"type":"function","name":"exactInputSingle","inputs":[{"name":"params","type":"tuple","components":[
  {"name":"tokenIn","type":"address"},{"name":"tokenOut","type":"address"},{"name":"fee","type":"uint24"},
  {"name":"recipient","type":"address"},{"name":"deadline","type":"uint256"},{"name":"amountIn","type":"uint256"},
  {"name":"amountOutMinimum","type":"uint256"},{"name":"sqrtPriceLimitX96","type":"uint160"}]}]},
{"type":"function","name":"deposit","inputs":[{"name":"token","type":"address"},{"name":"amount","type":"uint256"}]}
]`

type pathParams struct {
	Path             []byte
	Recipient        common.Address
	Deadline         *big.Int
	AmountIn         *big.Int
	AmountOutMinimum *big.Int
}

type outPathParams struct {
	Path            []byte
	Recipient       common.Address
	Deadline        *big.Int
	AmountOut       *big.Int
	AmountInMaximum *big.Int
}

type singleParams struct {
	TokenIn           common.Address
	TokenOut          common.Address
	Fee               *big.Int
	Recipient         common.Address
	Deadline          *big.Int
	AmountIn          *big.Int
	AmountOutMinimum  *big.Int
	SqrtPriceLimitX96 *big.Int
}

// v3Path is a packed V3 path: token, 3-byte fee, token, ...
func v3Path(tokens ...common.Address) []byte {
	var p []byte
	for i, tk := range tokens {
		if i > 0 {
			p = append(p, 0x00, 0x0b, 0xb8) // fee 3000
		}
		p = append(p, tk.Bytes()...)
	}
	return p
}

// Spend rules of every token kind, on a router whose calls pass their
// arguments in tuples, judged by check() and, for one call, by execute.
func TestSpendRuleKinds(t *testing.T) {
	e := newEnv(t, envConfig{})
	v3, err := abi.JSON(strings.NewReader(v3ABI))
	if err != nil {
		t.Fatal(err)
	}
	pack := func(name string, args ...any) []byte {
		data, err := v3.Pack(name, args...)
		if err != nil {
			t.Fatalf("pack %s: %v", name, err)
		}
		return data
	}
	sel := func(name string) [4]byte { return [4]byte(v3.Methods[name].ID) }
	// The router has no code here: check() never calls it, and execute's
	// call to an address without code succeeds, which is enough to see the
	// spend recorded.
	router := common.HexToAddress("0x00000000000000000000000000000000000e5592")
	owner, stranger := e.owner.addr, e.stranger.addr
	usdcT, daiT, wethT := e.usdc.Address, e.dai.Address, e.weth
	hundred := func(tk common.Address) *big.Int {
		if tk == usdcT {
			return usdc(e, 100)
		}
		return e.dai.Units(100)
	}

	cfg := e.swapConfig(swapPolicy{})
	// recipient is the second member of the params tuple; exactInputSingle's
	// tuple is static, so it is inline and read directly.
	cfg.Permissions = []permission{
		{Target: router, Selector: sel("exactInput"), Conditions: []condition{isOwner(in(0, 32))}},
		{Target: router, Selector: sel("exactOutput"), Conditions: []condition{isOwner(in(0, 32))}},
		{Target: router, Selector: sel("exactInputSingle"), Conditions: []condition{isOwner(at(96))}},
		{Target: router, Selector: sel("deposit")},
	}
	cfg.SpendRules = []spendRule{
		{Selector: sel("exactInput"), TokenKind: tokenBytesFirst, Token: in(0, 0), Amount: in(0, 96)},
		{Selector: sel("exactOutput"), TokenKind: tokenBytesLast, Token: in(0, 0), Amount: in(0, 128)},
		{Selector: sel("exactInputSingle"), TokenKind: tokenAddress, Token: at(0), Amount: at(160)},
		{Selector: sel("deposit"), TokenKind: tokenAddress, Token: at(0), Amount: at(32)},
	}
	cfg.TokenLimits = []tokenLimit{
		{Token: usdcT, PerTx: hundred(usdcT), PerPeriod: usdc(e, 1000)},
		{Token: daiT, PerTx: hundred(daiT), PerPeriod: maxUint256},
	}
	e.grant(e.session.addr, cfg)

	deadline := big.NewInt(1 << 40)
	exactIn := func(path []byte, to common.Address, amountIn *big.Int) []byte {
		return pack("exactInput", pathParams{path, to, deadline, amountIn, new(big.Int)})
	}
	exactOut := func(path []byte, to common.Address, amountInMax *big.Int) []byte {
		return pack("exactOutput", outPathParams{path, to, deadline, big.NewInt(1), amountInMax})
	}
	single := func(tokenIn common.Address, to common.Address, amountIn *big.Int) []byte {
		return pack("exactInputSingle", singleParams{tokenIn, daiT, big.NewInt(3000), to, deadline, amountIn, new(big.Int), new(big.Int)})
	}
	// patch overwrites the argument word at byte offset off (after the selector).
	patch := func(data []byte, off int, w [32]byte) []byte {
		out := bytes.Clone(data)
		copy(out[4+off:4+off+32], w[:])
		return out
	}
	good := exactIn(v3Path(usdcT, daiT), owner, usdc(e, 50))
	// args: [0] tuple offset 0x20; tuple at 32: [path offset, recipient,
	// deadline, amountIn, amountOutMinimum]; path length at 32+160.
	huge := wordInt(new(big.Int).Lsh(big.NewInt(1), 200))
	dirtyUSDC := word(usdcT)
	dirtyUSDC[0] = 0xff

	tests := []struct {
		name string
		data []byte
		want []byte
	}{
		{"exactInput within caps", good, nil},
		{"exactInput reads the first token", exactIn(v3Path(daiT, usdcT), owner, e.dai.Units(150)),
			errData("TokenPerTxExceeded", daiT, e.dai.Units(150), e.dai.Units(100))},
		{"exactInput multi-hop", exactIn(v3Path(usdcT, wethT, daiT), owner, usdc(e, 101)),
			errData("TokenPerTxExceeded", usdcT, usdc(e, 101), usdc(e, 100))},
		{"exactInput of an uncapped token", exactIn(v3Path(wethT, usdcT), owner, big.NewInt(1)),
			errData("UncappedToken", wethT)},
		{"exactInput to a stranger", exactIn(v3Path(usdcT, daiT), stranger, usdc(e, 1)),
			errData("ConditionFailed", big.NewInt(0), big.NewInt(0))},
		{"exactOutput reads the last token", exactOut(v3Path(daiT, usdcT), owner, usdc(e, 150)),
			errData("TokenPerTxExceeded", usdcT, usdc(e, 150), usdc(e, 100))},
		{"exactOutput within caps", exactOut(v3Path(daiT, usdcT), owner, usdc(e, 100)), nil},
		{"exactInputSingle", single(daiT, owner, e.dai.Units(150)),
			errData("TokenPerTxExceeded", daiT, e.dai.Units(150), e.dai.Units(100))},
		{"exactInputSingle to a stranger", single(usdcT, stranger, big.NewInt(1)),
			errData("ConditionFailed", big.NewInt(2), big.NewInt(0))},
		{"deposit of nothing of an uncapped token", pack("deposit", wethT, new(big.Int)), nil},
		{"deposit of an uncapped token", pack("deposit", wethT, big.NewInt(1)), errData("UncappedToken", wethT)},
		{"deposit naming a dirty address", patch(pack("deposit", usdcT, big.NewInt(1)), 0, dirtyUSDC), errData("BadCalldata")},
		{"path shorter than an address", exactIn(usdcT.Bytes()[:19], owner, big.NewInt(1)), errData("BadCalldata")},
		{"tuple offset outside the calldata", patch(good, 0, huge), errData("BadCalldata")},
		{"path offset outside the calldata", patch(good, 32, huge), errData("BadCalldata")},
		{"path longer than the calldata", patch(good, 32+160, wordInt(big.NewInt(1000))), errData("BadCalldata")},
		{"calldata cut inside the path", good[:4+32+160+32+10], errData("BadCalldata")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			ok, reason := e.check(e.session.addr, router, nil, tt.data)
			if ok != (tt.want == nil) || !bytes.Equal(reason, tt.want) {
				t.Errorf("check = %v %s, want %s", ok, errorName(reason), errorName(tt.want))
			}
			if tt.want != nil {
				e.mustRefuse(e.session, e.owner.addr, nil, delegateABI.PackExecute(router, new(big.Int), tt.data), tt.want)
			}
		})
	}

	// Executed for real, the spend lands on the token the path starts with.
	e.execute(e.session, router, nil, good)
	rem := e.remaining(e.session.addr)
	if diff := cmp.Diff(bigs(usdc(e, 950), maxUint256), bigs(rem.Amounts...)); diff != "" {
		t.Errorf("remaining USDC, DAI after one exactInput (-want +got):\n%s", diff)
	}
}
