package onchain

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// SignedGrant is a session grant for the owner to sign as EIP-712 typed
// data, so that anyone can register it with the delegate's
// grantWithSignature without the owner's key (docs/onchain.md).
type SignedGrant struct {
	Session common.Address
	Config  Config
	// Stipend is wei of the owner's that grantWithSignature sends the
	// session key for its gas, counted as native value spent in the grant's
	// first period; at most Config.NativePerPeriod. nil means none.
	Stipend *big.Int
	// Epoch is the delegate's epoch() when signing: a revokeAll before
	// submission voids the signature.
	Epoch uint32
	// Nonce is one the delegate has not used (nextNonce, nonceUsed); any
	// unused nonce is accepted, once.
	Nonce uint64
	// Deadline is the last block time (unix seconds) the grant may be
	// submitted at.
	Deadline uint64
}

// The EIP-712 domain of signed grants: verifyingContract is the owner's own
// address, where the delegate runs.
const (
	GrantDomainName    = "AgentKeyDelegate"
	GrantDomainVersion = "1"
	GrantPrimaryType   = "SessionGrant"
)

// grantTypes are the EIP-712 types of a SignedGrant, member for member the
// contract's structs (whose names they keep, signed_ included).
func grantTypes() apitypes.Types {
	return apitypes.Types{
		"EIP712Domain": {
			{Name: "name", Type: "string"},
			{Name: "version", Type: "string"},
			{Name: "chainId", Type: "uint256"},
			{Name: "verifyingContract", Type: "address"},
		},
		"SessionGrant": {
			{Name: "session", Type: "address"},
			{Name: "config", Type: "SessionConfig"},
			{Name: "stipend", Type: "uint256"},
			{Name: "epoch", Type: "uint32"},
			{Name: "nonce", Type: "uint64"},
			{Name: "deadline", Type: "uint64"},
		},
		"SessionConfig": {
			{Name: "validAfter", Type: "uint48"},
			{Name: "validUntil", Type: "uint48"},
			{Name: "period", Type: "uint32"},
			{Name: "maxValuePerCall", Type: "uint256"},
			{Name: "nativePerPeriod", Type: "uint256"},
			{Name: "maxCalls", Type: "uint256"},
			{Name: "permissions", Type: "Permission[]"},
			{Name: "spendRules", Type: "SpendRule[]"},
			{Name: "tokenLimits", Type: "TokenLimit[]"},
		},
		"Permission": {
			{Name: "target", Type: "address"},
			{Name: "selector", Type: "bytes4"},
			{Name: "anySelector", Type: "bool"},
			{Name: "emptyCalldata", Type: "bool"},
			{Name: "conditions", Type: "Condition[]"},
		},
		"Condition": {
			{Name: "loc", Type: "Loc"},
			{Name: "op", Type: "uint8"},
			{Name: "signed_", Type: "bool"},
			{Name: "valueKind", Type: "uint8"},
			{Name: "values", Type: "bytes32[]"},
		},
		"Loc": {
			{Name: "head", Type: "uint32"},
			{Name: "indirect", Type: "bool"},
			{Name: "inner", Type: "uint32"},
		},
		"SpendRule": {
			{Name: "selector", Type: "bytes4"},
			{Name: "tokenKind", Type: "uint8"},
			{Name: "token", Type: "Loc"},
			{Name: "amount", Type: "Loc"},
		},
		"TokenLimit": {
			{Name: "token", Type: "address"},
			{Name: "perTx", Type: "uint256"},
			{Name: "perPeriod", Type: "uint256"},
		},
	}
}

// TypedData is g as the EIP-712 typed data the owner of account (the
// delegated EOA) signs on chain chainID: what eth_signTypedData_v4 takes.
// Numbers are decimal strings and byte strings 0x-hex, so it survives JSON
// unchanged.
func (g SignedGrant) TypedData(chainID *big.Int, account common.Address) apitypes.TypedData {
	c := g.Config
	perms := make([]any, len(c.Permissions))
	for i, p := range c.Permissions {
		conds := make([]any, len(p.Conditions))
		for j, cd := range p.Conditions {
			values := make([]any, len(cd.Values))
			for k, v := range cd.Values {
				values[k] = hexutil.Encode(v[:])
			}
			conds[j] = map[string]any{
				"loc": locMessage(cd.Loc), "op": decimal(cd.Op), "signed_": cd.Signed,
				"valueKind": decimal(cd.ValueKind), "values": values,
			}
		}
		perms[i] = map[string]any{
			"target": p.Target.Hex(), "selector": hexutil.Encode(p.Selector[:]),
			"anySelector": p.AnySelector, "emptyCalldata": p.EmptyCalldata, "conditions": conds,
		}
	}
	rules := make([]any, len(c.SpendRules))
	for i, r := range c.SpendRules {
		rules[i] = map[string]any{
			"selector": hexutil.Encode(r.Selector[:]), "tokenKind": decimal(r.TokenKind),
			"token": locMessage(r.Token), "amount": locMessage(r.Amount),
		}
	}
	limits := make([]any, len(c.TokenLimits))
	for i, l := range c.TokenLimits {
		limits[i] = map[string]any{"token": l.Token.Hex(), "perTx": bigDecimal(l.PerTx), "perPeriod": bigDecimal(l.PerPeriod)}
	}
	return apitypes.TypedData{
		Types:       grantTypes(),
		PrimaryType: GrantPrimaryType,
		Domain: apitypes.TypedDataDomain{
			Name: GrantDomainName, Version: GrantDomainVersion,
			ChainId: (*math.HexOrDecimal256)(new(big.Int).Set(chainID)), VerifyingContract: account.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"session": g.Session.Hex(),
			"config": map[string]any{
				"validAfter": decimal(c.ValidAfter), "validUntil": decimal(c.ValidUntil), "period": decimal(c.Period),
				"maxValuePerCall": bigDecimal(c.MaxValuePerCall), "nativePerPeriod": bigDecimal(c.NativePerPeriod),
				"maxCalls": bigDecimal(c.MaxCalls), "permissions": perms, "spendRules": rules, "tokenLimits": limits,
			},
			"stipend":  bigDecimal(g.Stipend),
			"epoch":    decimal(g.Epoch),
			"nonce":    decimal(g.Nonce),
			"deadline": decimal(g.Deadline),
		},
	}
}

// Digest is the EIP-712 hash of g's typed data, which the owner's key
// signs and the delegate's hashGrant returns.
func (g SignedGrant) Digest(chainID *big.Int, account common.Address) (common.Hash, error) {
	h, _, err := apitypes.TypedDataAndHash(g.TypedData(chainID, account))
	if err != nil {
		return common.Hash{}, fmt.Errorf("hash signed grant: %w", err)
	}
	return common.BytesToHash(h), nil
}

// PackGrantWithSignature encodes grantWithSignature(g..., signature), which
// anyone may send to the owner's account.
func PackGrantWithSignature(g SignedGrant, signature []byte) ([]byte, error) {
	return delegateABI.TryPackGrantWithSignature(g.Session, g.Config.binding(), orZero(g.Stipend), g.Epoch, g.Nonce, g.Deadline, signature)
}

// PackRevokeSelf encodes revokeSelf(), which a session key sends to the
// owner's account to end its own grant.
func PackRevokeSelf() []byte { return delegateABI.PackRevokeSelf() }

func locMessage(l Loc) map[string]any {
	return map[string]any{"head": decimal(l.Head), "indirect": l.Indirect, "inner": decimal(l.Inner)}
}

func decimal[T uint8 | uint32 | uint64](v T) string { return fmt.Sprint(v) }

// bigDecimal renders nil as 0, as the contract reads a missing amount.
func bigDecimal(v *big.Int) string { return orZero(v).String() }

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// PackEpoch encodes epoch(), the delegate's revocation epoch.
func PackEpoch() []byte { return delegateABI.PackEpoch() }

// UnpackEpoch decodes epoch()'s answer.
func UnpackEpoch(out []byte) (uint32, error) { return delegateABI.UnpackEpoch(out) }

// PackNextNonce encodes nextNonce(): one more than the highest signed
// grant nonce used.
func PackNextNonce() []byte { return delegateABI.PackNextNonce() }

// UnpackNextNonce decodes nextNonce()'s answer.
func UnpackNextNonce(out []byte) (*big.Int, error) { return delegateABI.UnpackNextNonce(out) }
