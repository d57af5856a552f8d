# The swap-only profile of docs/policy.md, as agentkeys compiles it for
# the benchmark's key (chain 1, the Uniswap V2 router and SwapRouter02,
# caps on ETH, USDC and WETH), written in Rego for Open Policy Agent.
#
# OPA cannot read ABI calldata, so its input is the call decoded by the
# caller (main.go's input): the target, the 4-byte selector, the
# arguments by name (addresses as lowercase hex, integers as numbers,
# bytes as 0x hex), whether the calldata decoded at all, the value, and
# what the key spent of each asset in the current period. Multicalls are
# not opened: the recorded requests hold none.
package agentkeys.swaponly

chains := {1}

routers := {
	"0x7a250d5630b4cf539739df2c5dacb4c659f2488d", # Uniswap V2 router
	"0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45", # SwapRouter02
}

# Router functions the key may call, with the argument that must name the
# owner and what the call spends: the first token of "path", the first or
# last token of a V3 packed path, or the token argument.
router_fns := {
	"0x38ed1739": {"recipient": "to", "from": "path0", "amount": "amountIn"}, # swapExactTokensForTokens (V2)
	"0x8803dbee": {"recipient": "to", "from": "path0", "amount": "amountInMax"}, # swapTokensForExactTokens (V2)
	"0x7ff36ab5": {"recipient": "to"}, # swapExactETHForTokens
	"0x4a25d94a": {"recipient": "to", "from": "path0", "amount": "amountInMax"}, # swapTokensForExactETH
	"0x18cbafe5": {"recipient": "to", "from": "path0", "amount": "amountIn"}, # swapExactTokensForETH
	"0xfb3bdb41": {"recipient": "to"}, # swapETHForExactTokens
	"0x5c11d795": {"recipient": "to", "from": "path0", "amount": "amountIn"}, # ...SupportingFeeOnTransferTokens
	"0xb6f9de95": {"recipient": "to"}, # swapExactETHForTokensSupportingFeeOnTransferTokens
	"0x791ac947": {"recipient": "to", "from": "path0", "amount": "amountIn"}, # swapExactTokensForETHSupportingFeeOnTransferTokens
	"0x472b43f3": {"recipient": "to", "from": "path0", "amount": "amountIn"}, # swapExactTokensForTokens (SwapRouter02)
	"0x42712a67": {"recipient": "to", "from": "path0", "amount": "amountInMax"}, # swapTokensForExactTokens (SwapRouter02)
	"0x414bf389": {"recipient": "params.recipient", "from": "params.tokenIn", "amount": "params.amountIn"}, # exactInputSingle (SwapRouter)
	"0xc04b8d59": {"recipient": "params.recipient", "from": "v3first", "amount": "params.amountIn"}, # exactInput (SwapRouter)
	"0xdb3e2198": {"recipient": "params.recipient", "from": "params.tokenIn", "amount": "params.amountInMaximum"}, # exactOutputSingle (SwapRouter)
	"0xf28c0498": {"recipient": "params.recipient", "from": "v3last", "amount": "params.amountInMaximum"}, # exactOutput (SwapRouter)
	"0x04e45aaf": {"recipient": "params.recipient", "from": "params.tokenIn", "amount": "params.amountIn"}, # exactInputSingle (SwapRouter02)
	"0xb858183f": {"recipient": "params.recipient", "from": "v3first", "amount": "params.amountIn"}, # exactInput (SwapRouter02)
	"0x5023b4df": {"recipient": "params.recipient", "from": "params.tokenIn", "amount": "params.amountInMaximum"}, # exactOutputSingle (SwapRouter02)
	"0x09b81346": {"recipient": "params.recipient", "from": "v3last", "amount": "params.amountInMaximum"}, # exactOutput (SwapRouter02)
	"0x49404b7c": {"recipient": "recipient"}, # unwrapWETH9
	"0xdf2ab5bb": {"recipient": "recipient"}, # sweepToken
}

refund_eth := "0x12210e8a"

approve := "0x095ea7b3"

# Functions the profile refuses on any contract.
blocked := {
	"0xa9059cbb": "token transfers", # transfer
	"0x23b872dd": "token transfers", # transferFrom
	"0x42842e0e": "NFT transfers", # safeTransferFrom
	"0xb88d4fde": "NFT transfers", # safeTransferFrom with data
	"0xa22cb465": "operator approvals", # setApprovalForAll
	"0x39509351": "approvals other than approve", # increaseAllowance
}

# Caps in base units; periods are the key's 24 hours.
limits := {
	"native": {"per_tx": 50000000000000000, "per_period": 500000000000000000},
	"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": {"per_tx": 500000000, "per_period": 1000000000}, # USDC
	"0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": {"per_period": 2000000000000000000}, # WETH
}

default allow := false

allow if count(deny) == 0

deny contains "chain" if not chains[input.chain_id]

deny contains "calldata does not decode" if not input.decoded

deny contains "plain ETH send to a router" if {
	input.selector == ""
	routers[input.to]
}

deny contains why if why := blocked[input.selector]

deny contains "no rule allows the call" if {
	not blocked[input.selector]
	not allowed_call
}

deny contains "no limit for a spent asset" if {
	some asset, _ in spends
	not limits[asset]
}

deny contains "over the per-transaction cap" if {
	some asset, amount in spends
	amount > limits[asset].per_tx
}

deny contains "over the period cap" if {
	some asset, amount in spends
	object.get(input.spent, asset, 0) + amount > limits[asset].per_period
}

deny contains "swap path shorter than two tokens" if {
	router_fns[input.selector].from == "path0"
	count(input.args.path) < 2
}

deny contains "malformed V3 path" if {
	f := router_fns[input.selector]
	f.from in {"v3first", "v3last"}
	not v3_path_ok(input.args["params.path"])
}

allowed_call if {
	routers[input.to]
	f := router_fns[input.selector]
	input.args[f.recipient] == input.owner
}

allowed_call if {
	routers[input.to]
	input.selector == refund_eth
}

allowed_call if {
	input.selector == approve
	routers[input.args.spender]
}

# A V3 packed path: token, then (fee, token) hops; 43 bytes at least.
v3_path_ok(p) if {
	n := (count(p) - 2) / 2
	n >= 43
	(n - 20) % 23 == 0
}

# What the request spends of each asset: its value, and the token a swap
# or an approval moves.
spends["native"] := input.value if input.value > 0

spends[asset] := amount if {
	f := router_fns[input.selector]
	amount := input.args[f.amount]
	amount > 0
	asset := spent_token(f.from)
}

spends[input.to] := amount if {
	input.selector == approve
	amount := input.args.amount
	amount > 0
}

spent_token("path0") := input.args.path[0]

spent_token("v3first") := lower(substring(input.args["params.path"], 0, 42))

spent_token("v3last") := lower(concat("", ["0x", substring(p, count(p) - 40, 40)])) if p := input.args["params.path"]

spent_token(from) := input.args[from] if startswith(from, "params.token")
