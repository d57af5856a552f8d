package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// ProfileParams fill in a built-in profile.
type ProfileParams struct {
	Chains   []uint64
	Routers  []common.Address // swap-only: the DEX routers the key may use
	Permit2  *common.Address  // swap-only: allow Permit2 PermitSingle to the routers
	Limits   []LimitDoc       // caps; profiles that spend get a default native cap
	ValidFor string           // default DefaultValidity
	Rate     *RateDoc
	Network  *NetworkDoc
}

// Profile names.
const (
	ProfileReadOnly   = "read-only"
	ProfileSwapOnly   = "swap-only"
	ProfileFullAccess = "full-access"
)

// Profiles lists the built-in profiles, least privilege first.
var Profiles = []string{ProfileReadOnly, ProfileSwapOnly, ProfileFullAccess}

// DefaultNativeCap is the daily ETH cap a spending profile gets when none
// is given.
const DefaultNativeCap = "0.1"

// FullAccessWarning is shown with every full-access policy.
const FullAccessWarning = "FULL ACCESS: this key may call any contract and function. It is for development and testing only; it is still capped and expiring, but it can move any asset that has a limit up to that limit and call contracts this policy knows nothing about."

// v2Swaps and v3Swaps are the router functions swap-only allows; their
// recipient must be the owner.
var (
	v2Swaps = []string{
		"swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
		"swapTokensForExactTokens(uint256,uint256,address[],address,uint256)",
		"swapExactETHForTokens(uint256,address[],address,uint256)",
		"swapTokensForExactETH(uint256,uint256,address[],address,uint256)",
		"swapExactTokensForETH(uint256,uint256,address[],address,uint256)",
		"swapETHForExactTokens(uint256,address[],address,uint256)",
		"swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256,uint256,address[],address,uint256)",
		"swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)",
		"swapExactTokensForETHSupportingFeeOnTransferTokens(uint256,uint256,address[],address,uint256)",
		"swapExactTokensForTokens(uint256,uint256,address[],address)",
		"swapTokensForExactTokens(uint256,uint256,address[],address)",
	}
	v3Swaps = []string{
		"exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))",
		"exactInput((bytes,address,uint256,uint256,uint256))",
		"exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))",
		"exactOutput((bytes,address,uint256,uint256,uint256))",
		"exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))",
		"exactInput((bytes,address,uint256,uint256))",
		"exactOutputSingle((address,address,uint24,address,uint256,uint256,uint160))",
		"exactOutput((bytes,address,uint256,uint256))",
		"unwrapWETH9(uint256,address)",
		"sweepToken(address,uint256,address)",
	}
)

// ProfileDocument builds the document of a built-in profile. The result
// is an ordinary policy: it can be printed, stored and compiled.
func ProfileDocument(name string, pp ProfileParams) (*Document, error) {
	if len(pp.Chains) == 0 {
		return nil, &FieldError{Field: "chains", Msg: "a profile needs the chain id it signs for"}
	}
	d := &Document{Name: name, Profile: name, Chains: pp.Chains, ValidFor: pp.ValidFor, Rate: pp.Rate, Network: pp.Network,
		Limits: pp.Limits, Messages: &MessagesDoc{}}
	switch name {
	case ProfileReadOnly:
		d.Description = "Reads chain state through the proxy; never signs anything."
		d.Limits = nil
		d.Deny = []RuleDoc{{Contract: "*", Functions: []FunctionDoc{{Sig: "*"}}, Reason: "profile read-only never signs transactions"}}
	case ProfileSwapOnly:
		if len(pp.Routers) == 0 {
			return nil, &FieldError{Field: "routers", Msg: "swap-only needs at least one DEX router address (--router)"}
		}
		d.Description = "Swaps on the named DEX routers with the owner as recipient; approvals only to those routers, counted against the token's limit. No transfers."
		d.Limits = withNativeCap(pp.Limits)
		routers := make([]string, len(pp.Routers))
		for i, r := range pp.Routers {
			routers[i] = r.Hex()
		}
		for _, r := range pp.Routers {
			rule := RuleDoc{Contract: r.Hex(), Name: "router"}
			for _, s := range v2Swaps {
				rule.Functions = append(rule.Functions, FunctionDoc{Sig: s, Where: Where{{Param: "to", Ops: []OpDoc{{Op: "eq", Values: []string{"$owner"}}}}}})
			}
			for _, s := range v3Swaps {
				rule.Functions = append(rule.Functions, FunctionDoc{Sig: s, Where: Where{{Param: "recipient", Ops: []OpDoc{{Op: "eq", Values: []string{"$owner"}}}}}})
			}
			rule.Functions = append(rule.Functions, FunctionDoc{Sig: "refundETH()"})
			d.Allow = append(d.Allow, rule)
		}
		d.Allow = append(d.Allow, RuleDoc{Contract: "*", Name: "approve routers", Functions: []FunctionDoc{{
			Sig: "approve(address,uint256)", Where: Where{{Param: "spender", Ops: []OpDoc{{Op: "in", Values: routers}}}},
		}}})
		d.Deny = []RuleDoc{
			{Contract: "*", Functions: sigs("transfer(address,uint256)", "transferFrom(address,address,uint256)"), Reason: "profile swap-only blocks token transfers"},
			{Contract: "*", Functions: sigs("safeTransferFrom(address,address,uint256)", "safeTransferFrom(address,address,uint256,bytes)"), Reason: "profile swap-only blocks NFT transfers"},
			{Contract: "*", Functions: sigs("setApprovalForAll(address,bool)"), Reason: "profile swap-only blocks operator approvals"},
			{Contract: "*", Functions: sigs("increaseAllowance(address,uint256)"), Reason: "profile swap-only allows only approve, and only to the named routers"},
		}
		for _, r := range pp.Routers {
			d.Deny = append(d.Deny, RuleDoc{Contract: r.Hex(), Functions: sigs("receive"), Reason: "profile swap-only blocks plain ETH sends"})
		}
		d.TypedData = &TypedDataDoc{Allow: []TypedRuleDoc{}}
		if pp.Permit2 != nil {
			d.TypedData.Allow = append(d.TypedData.Allow, TypedRuleDoc{
				Domain:      DomainDoc{Name: "Permit2", VerifyingContract: pp.Permit2.Hex()},
				PrimaryType: "PermitSingle",
				Where:       Where{{Param: "spender", Ops: []OpDoc{{Op: "in", Values: routers}}}},
			})
		}
	case ProfileFullAccess:
		d.Description = "Any call on any contract, still capped and expiring. For development and testing only."
		d.Warning = FullAccessWarning
		d.Limits = withNativeCap(pp.Limits)
		d.Allow = []RuleDoc{{Contract: "*", Name: "anything", Functions: []FunctionDoc{{Sig: "*"}}}}
		d.TypedData = &TypedDataDoc{}
		for _, pt := range sortedPermitShapes() {
			d.TypedData.Allow = append(d.TypedData.Allow, TypedRuleDoc{PrimaryType: pt})
		}
		d.Messages = &MessagesDoc{Allow: true}
	default:
		return nil, &FieldError{Field: "profile", Msg: fmt.Sprintf("unknown profile %q; expected one of %s", name, strings.Join(Profiles, ", "))}
	}
	return d, nil
}

func sigs(ss ...string) []FunctionDoc {
	out := make([]FunctionDoc, len(ss))
	for i, s := range ss {
		out[i] = FunctionDoc{Sig: s}
	}
	return out
}

func withNativeCap(ls []LimitDoc) []LimitDoc {
	for _, l := range ls {
		if strings.EqualFold(l.Asset, Native) {
			return ls
		}
	}
	return append([]LimitDoc{{Asset: Native, PerPeriod: DefaultNativeCap, Period: "24h"}}, ls...)
}

func sortedPermitShapes() []string {
	out := make([]string, 0, len(permitShapes))
	for k := range permitShapes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
