package policy

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// A known describes a built-in function: its named signature, the family
// it belongs to (for explanations) and how it spends.
type known struct {
	sig    string
	family string
	// spend says which asset and amount a call moves out of the account;
	// empty when it moves nothing the engine counts.
	spend spendRule
	// wrapper marks multicall-style functions whose "data" argument holds
	// inner calls to the same contract.
	wrapper bool
}

// spendRule names where a call's spent asset and amount are found.
// Asset is "@target" (the called contract), "@path0" (first address of the
// address[] argument "path"), "@v3first"/"@v3last" (first/last token of a
// Uniswap V3 packed path in the argument named by PathArg), or the path of
// an address argument. Amount is the path of a uint argument.
type spendRule struct {
	Asset   string
	Amount  string
	PathArg string
}

const (
	famERC20   = "ERC-20"
	famERC721  = "ERC-721"
	famWETH    = "WETH"
	famV2      = "Uniswap V2 router"
	famV3      = "Uniswap V3 SwapRouter"
	famV3R02   = "Uniswap V3 SwapRouter02"
	famPermit  = "EIP-2612 permit"
	famPermit2 = "Permit2"
	famWrapper = "multicall"
)

var target = func(amount string) spendRule { return spendRule{Asset: "@target", Amount: amount} }

// builtinFunctions is the decoding table every policy starts with. Users
// add their own ABIs in the policy's abis section.
var builtinFunctions = []known{
	// ERC-20 (transferFrom and approve share selectors with ERC-721; the
	// amount argument is then the token id, which is why spending needs a
	// limit on the asset before it is allowed at all).
	{sig: "transfer(address to,uint256 amount)", family: famERC20, spend: target("amount")},
	{sig: "transferFrom(address from,address to,uint256 amount)", family: famERC20, spend: target("amount")},
	{sig: "approve(address spender,uint256 amount)", family: famERC20, spend: target("amount")},
	{sig: "increaseAllowance(address spender,uint256 addedValue)", family: famERC20, spend: target("addedValue")},
	{sig: "decreaseAllowance(address spender,uint256 subtractedValue)", family: famERC20},
	// ERC-721
	{sig: "safeTransferFrom(address from,address to,uint256 tokenId)", family: famERC721},
	{sig: "safeTransferFrom(address from,address to,uint256 tokenId,bytes data)", family: famERC721},
	{sig: "setApprovalForAll(address operator,bool approved)", family: famERC721},
	// WETH
	{sig: "deposit()", family: famWETH},
	{sig: "withdraw(uint256 wad)", family: famWETH},
	// EIP-2612
	{sig: "permit(address owner,address spender,uint256 value,uint256 deadline,uint8 v,bytes32 r,bytes32 s)", family: famPermit, spend: target("value")},
	// Permit2
	{sig: "permit(address owner,((address token,uint160 amount,uint48 expiration,uint48 nonce) details,address spender,uint256 sigDeadline) permitSingle,bytes signature)", family: famPermit2,
		spend: spendRule{Asset: "permitSingle.details.token", Amount: "permitSingle.details.amount"}},
	{sig: "permitTransferFrom(((address token,uint256 amount) permitted,uint256 nonce,uint256 deadline) permit,(address to,uint256 requestedAmount) transferDetails,address owner,bytes signature)", family: famPermit2,
		spend: spendRule{Asset: "permit.permitted.token", Amount: "transferDetails.requestedAmount"}},
	// Uniswap V2 router
	{sig: "swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountIn"}},
	{sig: "swapTokensForExactTokens(uint256 amountOut,uint256 amountInMax,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountInMax"}},
	{sig: "swapExactETHForTokens(uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2},
	{sig: "swapTokensForExactETH(uint256 amountOut,uint256 amountInMax,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountInMax"}},
	{sig: "swapExactTokensForETH(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountIn"}},
	{sig: "swapETHForExactTokens(uint256 amountOut,address[] path,address to,uint256 deadline)", family: famV2},
	{sig: "swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountIn"}},
	{sig: "swapExactETHForTokensSupportingFeeOnTransferTokens(uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2},
	{sig: "swapExactTokensForETHSupportingFeeOnTransferTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline)", family: famV2, spend: spendRule{Asset: "@path0", Amount: "amountIn"}},
	// SwapRouter02 carries V2-style swaps without a deadline.
	{sig: "swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to)", family: famV3R02, spend: spendRule{Asset: "@path0", Amount: "amountIn"}},
	{sig: "swapTokensForExactTokens(uint256 amountOut,uint256 amountInMax,address[] path,address to)", family: famV3R02, spend: spendRule{Asset: "@path0", Amount: "amountInMax"}},
	// Uniswap V3 SwapRouter
	{sig: "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)", family: famV3,
		spend: spendRule{Asset: "params.tokenIn", Amount: "params.amountIn"}},
	{sig: "exactInput((bytes path,address recipient,uint256 deadline,uint256 amountIn,uint256 amountOutMinimum) params)", family: famV3,
		spend: spendRule{Asset: "@v3first", PathArg: "params.path", Amount: "params.amountIn"}},
	{sig: "exactOutputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,uint256 amountOut,uint256 amountInMaximum,uint160 sqrtPriceLimitX96) params)", family: famV3,
		spend: spendRule{Asset: "params.tokenIn", Amount: "params.amountInMaximum"}},
	{sig: "exactOutput((bytes path,address recipient,uint256 deadline,uint256 amountOut,uint256 amountInMaximum) params)", family: famV3,
		spend: spendRule{Asset: "@v3last", PathArg: "params.path", Amount: "params.amountInMaximum"}},
	// Uniswap V3 SwapRouter02 (no deadline in the params struct)
	{sig: "exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96) params)", family: famV3R02,
		spend: spendRule{Asset: "params.tokenIn", Amount: "params.amountIn"}},
	{sig: "exactInput((bytes path,address recipient,uint256 amountIn,uint256 amountOutMinimum) params)", family: famV3R02,
		spend: spendRule{Asset: "@v3first", PathArg: "params.path", Amount: "params.amountIn"}},
	{sig: "exactOutputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 amountOut,uint256 amountInMaximum,uint160 sqrtPriceLimitX96) params)", family: famV3R02,
		spend: spendRule{Asset: "params.tokenIn", Amount: "params.amountInMaximum"}},
	{sig: "exactOutput((bytes path,address recipient,uint256 amountOut,uint256 amountInMaximum) params)", family: famV3R02,
		spend: spendRule{Asset: "@v3last", PathArg: "params.path", Amount: "params.amountInMaximum"}},
	// Router periphery: these only pay out to the named recipient.
	{sig: "unwrapWETH9(uint256 amountMinimum,address recipient)", family: famV3},
	{sig: "sweepToken(address token,uint256 amountMinimum,address recipient)", family: famV3},
	{sig: "refundETH()", family: famV3},
	// Wrappers: inner calls are decoded and each checked like a top-level call.
	{sig: "multicall(bytes[] data)", family: famWrapper, wrapper: true},
	{sig: "multicall(uint256 deadline,bytes[] data)", family: famWrapper, wrapper: true},
	{sig: "multicall(bytes32 previousBlockhash,bytes[] data)", family: famWrapper, wrapper: true},
}

// entry is a compiled known function.
type entry struct {
	fn *Function
	known
	// Leaves of the arguments spending and wrapping read, for built-ins.
	amountLeaf, assetLeaf, pathLeaf, dataLeaf int
}

// spendAt is spendOf for calldata the function's layout accepted: it reads
// the amount into amount and returns the asset's address.
func (e *entry) spendAt(to common.Address, a args, amount *big.Int) (common.Address, error) {
	amount.SetBytes(a.word(e.amountLeaf))
	switch e.spend.Asset {
	case "@target":
		return to, nil
	case "@path0":
		if n := a.count(e.pathLeaf); n < 2 {
			return common.Address{}, fmt.Errorf("swap path has %d tokens, expected at least 2", n)
		}
		return a.addressAt(e.pathLeaf, 0), nil
	case "@v3first", "@v3last":
		path := a.bytes(e.pathLeaf)
		if len(path) < 43 || (len(path)-20)%23 != 0 {
			return common.Address{}, fmt.Errorf("packed swap path of %d bytes is malformed", len(path))
		}
		if e.spend.Asset == "@v3first" {
			return common.BytesToAddress(path[:20]), nil
		}
		return common.BytesToAddress(path[len(path)-20:]), nil
	}
	return common.Address(a.word(e.assetLeaf)[12:]), nil
}

// registry maps selectors to the functions the engine can decode.
type registry struct {
	bySelector map[[4]byte]*entry
	bySig      map[string]*entry
}

var builtins = mustRegistry(builtinFunctions)

func mustRegistry(ks []known) *registry {
	r := &registry{bySelector: map[[4]byte]*entry{}, bySig: map[string]*entry{}}
	for _, k := range ks {
		fn, err := ParseSignature(k.sig)
		if err != nil {
			panic(fmt.Sprintf("policy: built-in signature %q: %v", k.sig, err))
		}
		if _, dup := r.bySelector[fn.Selector]; dup {
			panic(fmt.Sprintf("policy: built-in signature %q: duplicate selector", k.sig))
		}
		e := &entry{fn: fn, known: k, amountLeaf: -1, assetLeaf: -1, pathLeaf: -1, dataLeaf: -1}
		if fn.layout == nil {
			panic(fmt.Sprintf("policy: built-in signature %q has no calldata layout", k.sig))
		}
		need := func(path string) int {
			i := fn.leaf(path)
			if i < 0 {
				panic(fmt.Sprintf("policy: built-in signature %q has no argument %q", k.sig, path))
			}
			return i
		}
		switch k.spend.Asset {
		case "":
		case "@target":
		case "@path0":
			e.pathLeaf = need("path")
		case "@v3first", "@v3last":
			e.pathLeaf = need(k.spend.PathArg)
		default:
			e.assetLeaf = need(k.spend.Asset)
		}
		if k.spend.Asset != "" {
			e.amountLeaf = need(k.spend.Amount)
		}
		if k.wrapper {
			e.dataLeaf = need("data")
		}
		r.bySelector[fn.Selector] = e
		r.bySig[fn.Signature] = e
	}
	return r
}

// lookup returns the built-in entry for a selector, if any.
func (r *registry) lookup(sel [4]byte) *entry { return r.bySelector[sel] }
