package service

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/agentkeys/agentkeys/internal/policy"
)

// ProbeStranger is the account a probe tries to pay: no policy should let
// a key send it anything.
var ProbeStranger = common.HexToAddress("0x5757575757575757575757575757575757575757")

// Stand-ins for contracts a policy does not name, so a forbidden attempt
// has a target (a full-access policy allows them all).
var (
	probeRouter = common.HexToAddress("0x7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a")
	probeToken  = common.HexToAddress("0x7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b")
	probeWETH   = common.HexToAddress("0x7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c")
	// Permit2 is Uniswap's Permit2 deployment, the same on every chain.
	probePermit2 = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")
)

// BatteryParams fill in a battery.
type BatteryParams struct {
	Owner   common.Address
	ChainID uint64
	Now     time.Time
	// WETH is the wrapped native token swaps from ETH route through; zero
	// for a stand-in (enough for a dry run, which moves nothing).
	WETH common.Address
	// Token is the ERC-20 to swap into and try to give away when the
	// policy caps none; zero for a stand-in.
	Token common.Address
}

// ProbeBattery is the attempts a probe makes against one policy.
type ProbeBattery struct {
	Attempts []ProbeAttempt
	// Skipped names attempts the policy gives nothing to build from (no
	// schedule, no spending cap).
	Skipped []string
}

// Battery builds the standard probe of a policy: what no agent key should
// be able to do (transfers, approvals and swaps paying a stranger, a spend
// split under the per-transaction cap past the period cap, calls outside
// the schedule, permits to a stranger, eth_sign, 7702 authorizations,
// contract creation, native sends) and the swaps and approvals the policy
// names on its routers, which the key must be allowed.
func Battery(p *policy.Policy, bp BatteryParams) ProbeBattery {
	b := &batteryBuilder{p: p, bp: bp, weth: bp.WETH, deadline: big.NewInt(bp.Now.Add(time.Hour).Unix())}
	if b.weth == (common.Address{}) {
		b.weth = probeWETH
	}
	b.routers = allowedRouters(p.Document())
	b.token, b.tokenCap = tokenLimit(p)
	if b.tokenCap == nil && bp.Token != (common.Address{}) {
		b.token = bp.Token
	}
	b.native, _ = p.Limit(policy.Native)
	b.allowed()
	b.forbidden()
	b.network()
	return ProbeBattery{Attempts: b.out, Skipped: b.skipped}
}

type batteryBuilder struct {
	p        *policy.Policy
	bp       BatteryParams
	weth     common.Address
	deadline *big.Int
	routers  []swapRouter   // the contracts the policy allows swaps on
	token    common.Address // an ERC-20 the policy caps, else a stand-in
	tokenCap *big.Int       // its smallest cap, nil if none
	native   policy.Limit
	out      []ProbeAttempt
	skipped  []string
}

func (b *batteryBuilder) deny(name string, a ProbeAttempt) {
	a.Name, a.Expect = name, policy.Deny
	b.add(a)
}

func (b *batteryBuilder) allow(name string, a ProbeAttempt) {
	a.Name, a.Expect = name, policy.Allow
	b.add(a)
}

// add judges a as coming from inside the networks the policy accepts, so
// the rest of the policy is what answers.
func (b *batteryBuilder) add(a ProbeAttempt) {
	if n := b.p.Document().Network; n != nil && len(n.AllowCIDRs) > 0 && !a.IP.IsValid() {
		if pfx, err := netip.ParsePrefix(n.AllowCIDRs[0]); err == nil {
			a.IP = pfx.Addr()
		}
	}
	b.out = append(b.out, a)
}

// network tries the first allowed swap from an address outside the
// networks the policy accepts.
func (b *batteryBuilder) network() {
	const name = "allowed swap from a network the key does not accept"
	n := b.p.Document().Network
	if n == nil || len(n.AllowCIDRs) == 0 {
		b.skipped = append(b.skipped, name+": the policy accepts any network")
		return
	}
	outside := netip.MustParseAddr("198.51.100.7") // TEST-NET-2
	for _, c := range n.AllowCIDRs {
		if pfx, err := netip.ParsePrefix(c); err != nil || pfx.Contains(outside) {
			b.skipped = append(b.skipped, name+": the policy accepts "+outside.String())
			return
		}
	}
	for _, a := range b.out {
		if a.Expect == policy.Allow {
			a.Name, a.Expect, a.IP = name, policy.Deny, outside
			b.out = append(b.out, a)
			return
		}
	}
	b.skipped = append(b.skipped, name+": the policy names no allowed swap")
}

func tx(to common.Address, value *big.Int, data []byte) ProbeAttempt {
	return ProbeAttempt{Method: "eth_sendTransaction", Txs: []TxArgs{{To: &to, Value: value, Data: data}}}
}

// call encodes a call of the signature; the battery's own signatures and
// arguments always encode.
func call(sig string, args ...any) []byte {
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		panic(fmt.Sprintf("service: probe signature %q: %v", sig, err))
	}
	data, err := fn.Calldata(args...)
	if err != nil {
		panic(fmt.Sprintf("service: probe call %q: %v", sig, err))
	}
	return data
}

const (
	sigTransfer          = "transfer(address to,uint256 amount)"
	sigApprove           = "approve(address spender,uint256 amount)"
	sigIncreaseAllowance = "increaseAllowance(address spender,uint256 addedValue)"
	sigV2ETHSwap         = "swapExactETHForTokens(uint256 amountOutMin,address[] path,address to,uint256 deadline)"
	sigV2TokenSwap       = "swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)"
	sigV3Single          = "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)"
	sigMulticall         = "multicall(bytes[] data)"
	sigSweep             = "sweepToken(address token,uint256 amountMinimum,address recipient)"
	sigUnwrap            = "unwrapWETH9(uint256 amountMinimum,address recipient)"
)

// v3Params is exactInputSingle's argument as the abi package packs it.
type v3Params struct {
	TokenIn           common.Address
	TokenOut          common.Address
	Fee               *big.Int
	Recipient         common.Address
	Deadline          *big.Int
	AmountIn          *big.Int
	AmountOutMinimum  *big.Int
	SqrtPriceLimitX96 *big.Int
}

func (b *batteryBuilder) v3Single(recipient common.Address, amount *big.Int) []byte {
	return call(sigV3Single, v3Params{TokenIn: b.token, TokenOut: b.weth, Fee: big.NewInt(3000), Recipient: recipient,
		Deadline: b.deadline, AmountIn: amount, AmountOutMinimum: new(big.Int), SqrtPriceLimitX96: new(big.Int)})
}

// small is an amount under every cap of a limit (a tenth of the smaller),
// or 1000 base units without caps.
func small(caps ...*big.Int) *big.Int {
	var least *big.Int
	for _, c := range caps {
		if c != nil && (least == nil || c.Cmp(least) < 0) {
			least = c
		}
	}
	if least == nil {
		return big.NewInt(1000)
	}
	v := new(big.Int).Div(least, big.NewInt(10))
	if v.Sign() == 0 {
		v.SetInt64(1)
	}
	return v
}

func (b *batteryBuilder) forbidden() {
	router := probeRouter
	if len(b.routers) > 0 {
		router = b.routers[0].addr
	}
	amount := small(b.tokenCap)
	eth := small(b.native.PerTx, b.native.PerPeriod)
	owner := b.bp.Owner

	b.deny("token transfer to a stranger", tx(b.token, nil, call(sigTransfer, ProbeStranger, amount)))
	b.deny("approve a stranger", tx(b.token, nil, call(sigApprove, ProbeStranger, amount)))
	b.deny("increaseAllowance to a stranger", tx(b.token, nil, call(sigIncreaseAllowance, ProbeStranger, amount)))
	b.deny("unlimited approve", tx(b.token, nil, call(sigApprove, router, math.MaxBig256)))
	b.deny("V2 swap paying a stranger", tx(router, eth, call(sigV2ETHSwap, new(big.Int), []common.Address{b.weth, b.token}, ProbeStranger, b.deadline)))
	b.deny("V3 exactInputSingle paying a stranger", tx(router, nil, b.v3Single(ProbeStranger, amount)))
	b.deny("V3 multicall paying a stranger", tx(router, nil, call(sigMulticall, [][]byte{b.v3Single(owner, amount), b.v3Single(ProbeStranger, amount)})))
	b.deny("sweepToken to a stranger", tx(router, nil, call(sigSweep, b.token, new(big.Int), ProbeStranger)))
	b.deny("unwrapWETH9 to a stranger", tx(router, nil, call(sigUnwrap, new(big.Int), ProbeStranger)))
	b.splitSpend(router)
	b.offSchedule(router, eth)
	b.deny("EIP-2612 Permit to a stranger", ProbeAttempt{Method: "eth_signTypedData_v4", TypedData: permit2612(b.bp.ChainID, b.token, owner, ProbeStranger, amount)})
	b.deny("Permit2 PermitSingle to a stranger", ProbeAttempt{Method: "eth_signTypedData_v4", TypedData: permitSingle(b.bp.ChainID, b.token, ProbeStranger, amount)})
	b.deny("eth_sign", ProbeAttempt{Method: "eth_sign"})
	auth := tx(owner, nil, nil)
	auth.Txs[0].Authorizations = 1
	b.deny("EIP-7702 authorization", auth)
	b.deny("contract creation", ProbeAttempt{Method: "eth_sendTransaction", Txs: []TxArgs{{Data: []byte{0x60, 0x00, 0x60, 0x00, 0xf3}}}})
	b.deny("native send to a stranger", tx(ProbeStranger, eth, nil))
}

// splitSpend tries the period's native cap in pieces each under the
// per-transaction cap: a dry run reserves nothing, so the pieces are
// judged as one sequence, each seeing the spend of those before it, as
// they would be if sent one after the other.
func (b *batteryBuilder) splitSpend(router common.Address) {
	const name = "spend split under the per-transaction cap past the period cap"
	if b.native.PerPeriod == nil {
		b.skipped = append(b.skipped, name+": the policy sets no period cap on ETH")
		return
	}
	n := int64(2)
	if b.native.PerTx != nil {
		// n pieces of PerPeriod/n+1 each pass the period cap; each must
		// stay within the per-transaction cap.
		n = new(big.Int).Div(b.native.PerPeriod, b.native.PerTx).Int64() + 1
	}
	piece := new(big.Int).Add(new(big.Int).Div(b.native.PerPeriod, big.NewInt(n)), big.NewInt(1))
	if n > 16 || b.native.PerTx != nil && piece.Cmp(b.native.PerTx) > 0 {
		b.skipped = append(b.skipped, name+": the period cap takes more than 16 transactions at the per-transaction cap")
		return
	}
	a := ProbeAttempt{Method: "eth_sendTransaction"}
	data := call(sigV2ETHSwap, new(big.Int), []common.Address{b.weth, b.token}, b.bp.Owner, b.deadline)
	for range n {
		a.Txs = append(a.Txs, TxArgs{To: &router, Value: piece, Data: data})
	}
	b.deny(fmt.Sprintf("%s (%d swaps of %s wei)", name, n, piece), a)
}

// offSchedule tries an allowed swap at the first hour the schedule does
// not cover, within the next week.
func (b *batteryBuilder) offSchedule(router common.Address, eth *big.Int) {
	const name = "swap outside the schedule"
	if b.p.Document().Schedule == nil {
		b.skipped = append(b.skipped, name+": the policy has no schedule")
		return
	}
	t := b.bp.Now.Truncate(time.Hour).Add(30 * time.Minute)
	for range 7 * 24 {
		if !b.p.InSchedule(t) {
			a := tx(router, eth, call(sigV2ETHSwap, new(big.Int), []common.Address{b.weth, b.token}, b.bp.Owner, big.NewInt(t.Add(time.Hour).Unix())))
			a.At = t
			b.deny(name, a)
			return
		}
		t = t.Add(time.Hour)
	}
	b.skipped = append(b.skipped, name+": the schedule covers every hour of the week")
}

// allowed adds what the policy names: on each router it allows swaps on,
// a swap paying the owner (from ETH when it caps ETH, else from its
// capped token) and, if it allows approvals of the router, one within the
// token's cap.
func (b *batteryBuilder) allowed() {
	if len(b.routers) == 0 {
		b.skipped = append(b.skipped, "allowed swaps: the policy names no router")
		return
	}
	for _, r := range b.routers {
		switch {
		case r.allows[canonical(sigV2ETHSwap)] && (b.native.PerTx != nil || b.native.PerPeriod != nil):
			b.allow("V2 swap from ETH paying the owner on "+r.addr.Hex(), tx(r.addr, small(b.native.PerTx, b.native.PerPeriod),
				call(sigV2ETHSwap, new(big.Int), []common.Address{b.weth, b.token}, b.bp.Owner, b.deadline)))
		case r.allows[canonical(sigV2TokenSwap)] && b.tokenCap != nil:
			b.allow("V2 swap of a capped token paying the owner on "+r.addr.Hex(), tx(r.addr, nil,
				call(sigV2TokenSwap, small(b.tokenCap), new(big.Int), []common.Address{b.token, b.weth}, b.bp.Owner, b.deadline)))
		case r.allows[canonical(sigV3Single)] && b.tokenCap != nil:
			b.allow("V3 exactInputSingle paying the owner on "+r.addr.Hex(), tx(r.addr, nil, b.v3Single(b.bp.Owner, small(b.tokenCap))))
		default:
			b.skipped = append(b.skipped, "allowed swap on "+r.addr.Hex()+": the policy caps no asset its swaps spend")
		}
		if b.tokenCap != nil && approves(b.p.Document(), r.addr) {
			b.allow("approve the router "+r.addr.Hex()+" within the token cap", tx(b.token, nil, call(sigApprove, r.addr, small(b.tokenCap))))
		}
	}
}

// swapRouter is a contract the policy allows swaps on, with the
// functions it allows there (canonical signatures).
type swapRouter struct {
	addr   common.Address
	allows map[string]bool
}

// canonical is a signature's canonical form, or "" for "*", "receive"
// and what does not parse.
func canonical(sig string) string {
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		return ""
	}
	return fn.Signature
}

// allowedRouters are the contracts allow rules name (not "*") with a
// swap the battery can make on them.
func allowedRouters(d *policy.Document) []swapRouter {
	var out []swapRouter
	byAddr := map[common.Address]int{}
	for _, r := range d.Allow {
		if !common.IsHexAddress(r.Contract) {
			continue
		}
		a := common.HexToAddress(r.Contract)
		i, ok := byAddr[a]
		if !ok {
			i = len(out)
			byAddr[a] = i
			out = append(out, swapRouter{addr: a, allows: map[string]bool{}})
		}
		for _, f := range r.Functions {
			out[i].allows[canonical(f.Sig)] = true
		}
	}
	swaps := out[:0]
	for _, r := range out {
		if r.allows[canonical(sigV2ETHSwap)] || r.allows[canonical(sigV2TokenSwap)] || r.allows[canonical(sigV3Single)] {
			swaps = append(swaps, r)
		}
	}
	return swaps
}

// approves reports whether an allow rule names approve with router among
// the spenders it accepts.
func approves(d *policy.Document, router common.Address) bool {
	for _, r := range d.Allow {
		for _, f := range r.Functions {
			if !strings.HasPrefix(f.Sig, "approve(") {
				continue
			}
			for _, c := range f.Where {
				if c.Param != "spender" {
					continue
				}
				for _, op := range c.Ops {
					for _, v := range op.Values {
						if (op.Op == "eq" || op.Op == "in") && strings.EqualFold(v, router.Hex()) {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// tokenLimit is the first ERC-20 the policy caps and its smallest cap, or
// a stand-in token and nil.
func tokenLimit(p *policy.Policy) (common.Address, *big.Int) {
	for _, l := range p.Limits() {
		if l.Asset == policy.Native || !common.IsHexAddress(l.Asset) {
			continue
		}
		c := l.PerPeriod
		if l.PerTx != nil && (c == nil || l.PerTx.Cmp(c) < 0) {
			c = l.PerTx
		}
		return common.HexToAddress(l.Asset), c
	}
	return probeToken, nil
}

// typedData builds a typed-data document from its JSON form.
func typedData(doc map[string]any) *apitypes.TypedData {
	raw, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("service: probe typed data: %v", err))
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(raw, &td); err != nil {
		panic(fmt.Sprintf("service: probe typed data: %v", err))
	}
	return &td
}

// permit2612 is an EIP-2612 Permit of token letting spender take value.
func permit2612(chainID uint64, token, owner, spender common.Address, value *big.Int) *apitypes.TypedData {
	return typedData(map[string]any{
		"types": map[string]any{
			"EIP712Domain": []map[string]string{{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}},
			"Permit":       []map[string]string{{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}},
		},
		"primaryType": "Permit",
		"domain":      map[string]any{"name": "Token", "version": "1", "chainId": chainID, "verifyingContract": token.Hex()},
		"message":     map[string]any{"owner": owner.Hex(), "spender": spender.Hex(), "value": value.String(), "nonce": "0", "deadline": "1800000000"},
	})
}

// permitSingle is a Permit2 PermitSingle letting spender take amount of
// token.
func permitSingle(chainID uint64, token, spender common.Address, amount *big.Int) *apitypes.TypedData {
	return typedData(map[string]any{
		"types": map[string]any{
			"EIP712Domain":  []map[string]string{{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}},
			"PermitDetails": []map[string]string{{"name": "token", "type": "address"}, {"name": "amount", "type": "uint160"}, {"name": "expiration", "type": "uint48"}, {"name": "nonce", "type": "uint48"}},
			"PermitSingle":  []map[string]string{{"name": "details", "type": "PermitDetails"}, {"name": "spender", "type": "address"}, {"name": "sigDeadline", "type": "uint256"}},
		},
		"primaryType": "PermitSingle",
		"domain":      map[string]any{"name": "Permit2", "chainId": chainID, "verifyingContract": probePermit2.Hex()},
		"message": map[string]any{
			"details":     map[string]any{"token": token.Hex(), "amount": amount.String(), "expiration": "1800000000", "nonce": "0"},
			"spender":     spender.Hex(),
			"sigDeadline": "1800000000",
		},
	})
}
