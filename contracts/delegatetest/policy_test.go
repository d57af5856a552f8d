package delegatetest

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/contracts/bindings"
)

// Operators, value kinds and token kinds of AgentKeyDelegate.
const (
	opEQ uint8 = iota
	opNE
	opLT
	opLTE
	opGT
	opGTE
	opIN
	opNOTIN
)

const (
	valueLiteral uint8 = iota
	valueOwner
	valueSession
)

const (
	tokenTarget uint8 = iota
	tokenAddress
	tokenAddressArrayFirst
	tokenBytesFirst
	tokenBytesLast
)

type (
	sessionConfig = bindings.AgentKeyDelegateSessionConfig
	permission    = bindings.AgentKeyDelegatePermission
	condition     = bindings.AgentKeyDelegateCondition
	spendRule     = bindings.AgentKeyDelegateSpendRule
	tokenLimit    = bindings.AgentKeyDelegateTokenLimit
	loc           = bindings.AgentKeyDelegateLoc
	call          = bindings.AgentKeyDelegateCall
)

// at locates the argument word at byte offset head.
func at(head uint32) loc { return loc{Head: head} }

// in locates the word at inner within the dynamic tuple whose offset is at head.
func in(head, inner uint32) loc { return loc{Head: head, Indirect: true, Inner: inner} }

func word(a common.Address) [32]byte { return common.BytesToHash(a.Bytes()) }

func wordInt(v *big.Int) [32]byte { return common.BigToHash(v) }

// isOwner requires the address at l to be the owner ("$owner").
func isOwner(l loc) condition { return condition{Loc: l, Op: opEQ, ValueKind: valueOwner} }

// isAddress requires the address at l to be a.
func isAddress(l loc, a common.Address) condition {
	return condition{Loc: l, Op: opEQ, Values: [][32]byte{word(a)}}
}

// swapPolicy says what a swap-only grant allows and how much.
type swapPolicy struct {
	validAfter, validUntil uint64 // zero: from the head block, for a day
	period                 uint32 // zero: a day
	maxValuePerCall        *big.Int
	nativePerPeriod        *big.Int
	maxCalls               int64
	usdcPerTx              *big.Int
	usdcPerPeriod          *big.Int
	// decoys are permissions placed before the real ones that never match
	// the test's calls: on other (target, selector) pairs, or, with
	// sameKeyDecoys, on the router's swapExactTokensForTokens with a
	// condition (amountIn == 0) that the test's swaps fail.
	decoys        int
	sameKeyDecoys bool
}

// Indexes of the real permissions after the decoys, for ConditionFailed.
const (
	permApprove = iota
	permSwapETH
	permSwapTokens
	permCount
)

// swapConfig is the DemoRouter swap-only grant of the design: both swap
// functions with recipient = $owner, approve of USDC to the router only,
// spend rules for transfer/approve/transferFrom and the swap input, a USDC
// limit and native caps. The swapExactTokensForTokens permission comes last.
func (e *env) swapConfig(p swapPolicy) sessionConfig {
	e.t.Helper()
	if p.validUntil == 0 {
		now := e.head().Time
		p.validAfter, p.validUntil = now, now+86400
	}
	if p.period == 0 {
		p.period = 86400
	}
	orMax := func(v *big.Int) *big.Int {
		if v == nil {
			return maxUint256
		}
		return v
	}
	var perms []permission
	for i := range p.decoys {
		d := permission{Target: e.router, Selector: selector(fmt.Sprintf("decoy%d(uint256)", i))}
		if p.sameKeyDecoys {
			d = permission{Target: e.router, Selector: selSwapTokens, Conditions: []condition{
				{Loc: at(0), Op: opEQ, Values: [][32]byte{{}}}, isOwner(at(96)),
			}}
		} else if i%2 == 1 {
			// the swap selector on another contract
			d = permission{Target: common.BigToAddress(big.NewInt(int64(0x1000 + i))), Selector: selSwapTokens,
				Conditions: []condition{isOwner(at(96))}}
		}
		perms = append(perms, d)
	}
	perms = append(perms,
		permission{Target: e.usdc.Address, Selector: selApprove, Conditions: []condition{isAddress(at(0), e.router)}},
		permission{Target: e.router, Selector: selSwapETH, Conditions: []condition{isOwner(at(64))}},
		permission{Target: e.router, Selector: selSwapTokens, Conditions: []condition{isOwner(at(96))}},
	)
	return sessionConfig{
		ValidAfter:      new(big.Int).SetUint64(p.validAfter),
		ValidUntil:      new(big.Int).SetUint64(p.validUntil),
		Period:          p.period,
		MaxValuePerCall: orMax(p.maxValuePerCall),
		NativePerPeriod: orMax(p.nativePerPeriod),
		MaxCalls:        big.NewInt(p.maxCalls),
		Permissions:     perms,
		SpendRules:      erc20SpendRules(),
		TokenLimits:     []tokenLimit{{Token: e.usdc.Address, PerTx: orMax(p.usdcPerTx), PerPeriod: orMax(p.usdcPerPeriod)}},
	}
}

// erc20SpendRules count transfer, approve and transferFrom amounts against
// the called token, and a V2 swap's amountIn against path[0].
func erc20SpendRules() []spendRule {
	return []spendRule{
		{Selector: selTransfer, TokenKind: tokenTarget, Amount: at(32)},
		{Selector: selApprove, TokenKind: tokenTarget, Amount: at(32)},
		{Selector: selTransferFrom, TokenKind: tokenTarget, Amount: at(64)},
		{Selector: selSwapTokens, TokenKind: tokenAddressArrayFirst, Token: at(64), Amount: at(0)},
	}
}

// fullAccess allows any call to any target, with USDC capped.
func (e *env) fullAccess(usdcCap *big.Int) sessionConfig {
	e.t.Helper()
	now := e.head().Time
	return sessionConfig{
		ValidAfter:      new(big.Int).SetUint64(now),
		ValidUntil:      new(big.Int).SetUint64(now + 86400),
		Period:          86400,
		MaxValuePerCall: maxUint256,
		NativePerPeriod: maxUint256,
		MaxCalls:        new(big.Int),
		Permissions:     []permission{{AnySelector: true}},
		SpendRules:      erc20SpendRules(),
		TokenLimits:     []tokenLimit{{Token: e.usdc.Address, PerTx: usdcCap, PerPeriod: usdcCap}},
	}
}
