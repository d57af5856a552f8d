package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

// v2 is the slice of the Uniswap V2 router and ERC-20 interfaces swap
// speaks.
var v2 = func() abi.ABI {
	const def = `[
{"type":"function","name":"WETH","inputs":[],"outputs":[{"type":"address"}],"stateMutability":"view"},
{"type":"function","name":"getAmountsOut","inputs":[{"name":"amountIn","type":"uint256"},{"name":"path","type":"address[]"}],"outputs":[{"name":"amounts","type":"uint256[]"}],"stateMutability":"view"},
{"type":"function","name":"swapExactETHForTokens","inputs":[{"name":"amountOutMin","type":"uint256"},{"name":"path","type":"address[]"},{"name":"to","type":"address"},{"name":"deadline","type":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]"}],"stateMutability":"payable"},
{"type":"function","name":"swapExactTokensForETH","inputs":[{"name":"amountIn","type":"uint256"},{"name":"amountOutMin","type":"uint256"},{"name":"path","type":"address[]"},{"name":"to","type":"address"},{"name":"deadline","type":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]"}],"stateMutability":"nonpayable"},
{"type":"function","name":"swapExactTokensForTokens","inputs":[{"name":"amountIn","type":"uint256"},{"name":"amountOutMin","type":"uint256"},{"name":"path","type":"address[]"},{"name":"to","type":"address"},{"name":"deadline","type":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]"}],"stateMutability":"nonpayable"},
{"type":"function","name":"allowance","inputs":[{"name":"owner","type":"address"},{"name":"spender","type":"address"}],"outputs":[{"type":"uint256"}],"stateMutability":"view"},
{"type":"function","name":"approve","inputs":[{"name":"spender","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"type":"bool"}],"stateMutability":"nonpayable"}
]`
	a, err := abi.JSON(strings.NewReader(def))
	if err != nil {
		panic(err)
	}
	return a
}()

var (
	transferTopic   = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
	withdrawalTopic = crypto.Keccak256Hash([]byte("Withdrawal(address,uint256)"))
)

// receiptWait bounds how long swap waits for its transactions to be
// mined: under the agents' listener's 60s write timeout, so the answer
// still reaches the client.
const receiptWait = 45 * time.Second

var swapTool = tool{
	name: "swap", title: "Swap tokens",
	description: "Swap an exact amount of one token for another through a Uniswap-V2-style router that this key's policy allows, " +
		"with the wallet as recipient. It quotes the router, refuses a fill worse than max_slippage, approves the router for exactly the amount " +
		"when a token is sold (in one batch with the swap for a 7702 key), waits until the swap is mined and returns the amounts. " +
		"Every transaction is decided by the key's policy and counts against its budgets; a refusal says why and what is still allowed.",
	schema: `{"type":"object","required":["token_in","token_out","amount"],"properties":{` +
		`"token_in":{"type":"string","maxLength":64,"description":"what to sell: ETH, a token symbol listed by wallet_info (like USDC), or a token address"},` +
		`"token_out":{"type":"string","maxLength":64,"description":"what to buy: ETH, a token symbol listed by wallet_info, or a token address"},` +
		`"amount":{"type":"string","maxLength":80,"description":"how much token_in to sell, in whole units of token_in (like \"0.05\" ETH or \"100\" USDC)"},` +
		`"max_slippage":{"type":"number","minimum":0,"maximum":0.5,"description":"the worst fill accepted below the quote, as a fraction (0.01 is 1%); default 0.01"},` +
		`"router":{"type":"string","pattern":"^0x[0-9a-fA-F]{40}$","description":"the router to use; needed only when the key allows several"}},` +
		`"additionalProperties":false}`,
	run: (*Server).swap,
}

// swapped is what swap answers.
type swapped struct {
	Router      string `json:"router"`
	TokenIn     string `json:"token_in"`
	TokenOut    string `json:"token_out"`
	AmountIn    string `json:"amount_in"`
	Quoted      string `json:"quoted_amount_out"`
	MinOut      string `json:"min_amount_out"`
	AmountOut   string `json:"amount_out"`
	ApproveHash string `json:"approve_hash,omitempty"`
	Hash        string `json:"hash"`
	Block       uint64 `json:"block"`
}

// asset is one side of a swap.
type asset struct {
	native bool
	tok    service.Token
}

func (a asset) name() string {
	if a.native {
		return "ETH"
	}
	if a.tok.Symbol != "" {
		return a.tok.Symbol
	}
	return a.tok.Address.Hex()
}

func (a asset) decimals() uint8 {
	if a.native {
		return 18
	}
	return a.tok.Decimals
}

func (s *Server) swap(ctx context.Context, c caller, args json.RawMessage) (any, error) {
	var in struct {
		TokenIn     string   `json:"token_in"`
		TokenOut    string   `json:"token_out"`
		Amount      string   `json:"amount"`
		MaxSlippage *float64 `json:"max_slippage"`
		Router      string   `json:"router"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"token_in", in.TokenIn}, {"token_out", in.TokenOut}, {"amount", in.Amount}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, &service.ParamError{Field: f.name, Msg: "required"}
		}
	}
	slippage := 0.01
	if in.MaxSlippage != nil {
		slippage = *in.MaxSlippage
	}
	if math.IsNaN(slippage) || slippage < 0 || slippage > 0.5 {
		return nil, &service.ParamError{Field: "max_slippage", Msg: "expected a fraction between 0 and 0.5, like 0.01 for 1%"}
	}
	sell, err := s.readAsset(ctx, "token_in", in.TokenIn)
	if err != nil {
		return nil, err
	}
	buy, err := s.readAsset(ctx, "token_out", in.TokenOut)
	if err != nil {
		return nil, err
	}
	if sell.native == buy.native && (sell.native || sell.tok.Address == buy.tok.Address) {
		return nil, &service.ParamError{Field: "token_out", Msg: "is the same as token_in"}
	}
	amount, err := policy.ParseAmount(in.Amount, sell.decimals(), sell.name())
	if err != nil || amount.Sign() == 0 {
		return nil, &service.ParamError{Field: "amount", Msg: fmt.Sprintf("expected a positive amount of %s in whole units, like 0.5", sell.name())}
	}
	router, err := s.pickRouter(ctx, c, in.Router)
	if err != nil {
		return nil, err
	}
	// The quote and allowance reads go to the node: decided (schedule,
	// rate, network) and audited like any read first.
	if err := s.svc.Read(ctx, c.sess, c.info); err != nil {
		return nil, err
	}
	weth, err := s.callAddress(ctx, router, "WETH")
	if err != nil {
		return nil, err
	}
	path := swapPath(sell, buy, weth)
	quoted, err := s.quote(ctx, router, amount, path)
	if err != nil {
		return nil, err
	}
	bps := int64(math.Round(slippage * 10000))
	minOut := new(big.Int).Div(new(big.Int).Mul(quoted, big.NewInt(10000-bps)), big.NewInt(10000))
	deadline, err := s.deadline(ctx)
	if err != nil {
		return nil, err
	}
	owner := c.sess.Owner()
	var swapData []byte
	value := new(big.Int)
	switch {
	case sell.native:
		swapData, err = v2.Pack("swapExactETHForTokens", minOut, path, owner, deadline)
		value = amount
	case buy.native:
		swapData, err = v2.Pack("swapExactTokensForETH", amount, minOut, path, owner, deadline)
	default:
		swapData, err = v2.Pack("swapExactTokensForTokens", amount, minOut, path, owner, deadline)
	}
	if err != nil {
		return nil, err
	}
	out := swapped{Router: router.Hex(), TokenIn: sell.name(), TokenOut: buy.name(), AmountIn: policy.FormatAmount(amount, sell.decimals()),
		Quoted: policy.FormatAmount(quoted, buy.decimals()), MinOut: policy.FormatAmount(minOut, buy.decimals())}
	swapCall := service.TxArgs{To: &router, Value: value, Data: swapData}

	var approve *service.TxArgs
	if !sell.native {
		allowed, err := s.allowance(ctx, sell.tok.Address, owner, router)
		if err != nil {
			return nil, err
		}
		if allowed.Cmp(amount) < 0 {
			data, err := v2.Pack("approve", router, amount)
			if err != nil {
				return nil, err
			}
			approve = &service.TxArgs{To: &sell.tok.Address, Value: new(big.Int), Data: data}
		}
	}
	var hash common.Hash
	switch {
	case approve != nil && c.sess.Mode() == service.Mode7702:
		// One batch: the approval and the swap land together or not at all.
		res, err := s.svc.Batch(ctx, c.sess, c.info, []service.TxArgs{*approve, swapCall})
		if err != nil {
			return nil, err
		}
		hash = res.Hash
	case approve != nil:
		res, err := s.svc.Transaction(ctx, c.sess, c.info, *approve, true)
		if err != nil {
			return nil, err
		}
		out.ApproveHash = res.Hash.Hex()
		if _, err := s.mined(ctx, res.Hash); err != nil {
			return nil, err
		}
		fallthrough
	default:
		res, err := s.svc.Transaction(ctx, c.sess, c.info, swapCall, true)
		if err != nil {
			return nil, err
		}
		hash = res.Hash
	}
	out.Hash = hash.Hex()
	rcpt, err := s.mined(ctx, hash)
	if err != nil {
		return nil, err
	}
	out.Block = rcpt.BlockNumber.Uint64()
	out.AmountOut = policy.FormatAmount(received(rcpt, buy, owner, router, weth), buy.decimals())
	return out, nil
}

// readAsset reads a token argument: ETH, a symbol the home knows or an
// address, whose decimals an unlisted token tells.
func (s *Server) readAsset(ctx context.Context, field, ref string) (asset, error) {
	tok, native, err := s.resolveToken(ctx, ref)
	var pe *service.ParamError
	if errors.As(err, &pe) {
		pe.Field = field
	}
	if err != nil || native {
		return asset{native: native}, err
	}
	if tok.Decimals == 0 && tok.Symbol == "" {
		addr := tok.Address
		if tok, err = s.svc.LookupToken(ctx, addr); err != nil {
			return asset{}, &service.ParamError{Field: field, Msg: fmt.Sprintf("%s does not answer like an ERC-20 token", addr.Hex())}
		}
	}
	return asset{tok: tok}, nil
}

// pickRouter is the router to swap through: one that the key's policy
// names as a contract on which it may call a V2 swap.
func (s *Server) pickRouter(ctx context.Context, c caller, want string) (common.Address, error) {
	p, err := s.svc.Describe(ctx, c.sess.KeyID())
	if err != nil {
		return common.Address{}, err
	}
	var routers []common.Address
	for _, r := range p.Document.Allow {
		if !common.IsHexAddress(r.Contract) {
			continue
		}
		for _, f := range r.Functions {
			if strings.HasPrefix(f.Sig, "swapExact") {
				routers = append(routers, common.HexToAddress(r.Contract))
				break
			}
		}
	}
	if want != "" {
		addr, err := address("router", want)
		if err != nil {
			return addr, err
		}
		for _, r := range routers {
			if r == addr {
				return r, nil
			}
		}
		return addr, &service.ParamError{Field: "router", Msg: fmt.Sprintf("this key may not swap through %s; it allows %v", addr.Hex(), routers)}
	}
	switch len(routers) {
	case 0:
		return common.Address{}, &service.ParamError{Field: "router", Msg: "this key allows no swap router; see wallet_info for what it may do"}
	case 1:
		return routers[0], nil
	}
	return common.Address{}, &service.ParamError{Field: "router", Msg: fmt.Sprintf("this key allows several routers; name one of %v", routers)}
}

func swapPath(sell, buy asset, weth common.Address) []common.Address {
	switch {
	case sell.native:
		return []common.Address{weth, buy.tok.Address}
	case buy.native:
		return []common.Address{sell.tok.Address, weth}
	case sell.tok.Address == weth || buy.tok.Address == weth:
		return []common.Address{sell.tok.Address, buy.tok.Address}
	}
	return []common.Address{sell.tok.Address, weth, buy.tok.Address}
}

// ethCall calls method on a contract at the latest block and unpacks its
// outputs.
func (s *Server) ethCall(ctx context.Context, to common.Address, method string, args ...any) ([]any, error) {
	data, err := v2.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	var res hexutil.Bytes
	if err := s.upstream.CallContext(ctx, &res, "eth_call", map[string]any{"to": to, "data": hexutil.Bytes(data)}, "latest"); err != nil {
		return nil, &service.UpstreamError{Op: method, Err: err}
	}
	out, err := v2.Unpack(method, res)
	if err != nil || len(out) == 0 {
		return nil, service.Explained(method, fmt.Sprintf("%s did not answer %s like a Uniswap V2 router or ERC-20 token", to.Hex(), method))
	}
	return out, nil
}

func (s *Server) callAddress(ctx context.Context, to common.Address, method string) (common.Address, error) {
	out, err := s.ethCall(ctx, to, method)
	if err != nil {
		return common.Address{}, err
	}
	a, _ := out[0].(common.Address)
	return a, nil
}

func (s *Server) quote(ctx context.Context, router common.Address, amount *big.Int, path []common.Address) (*big.Int, error) {
	out, err := s.ethCall(ctx, router, "getAmountsOut", amount, path)
	if err != nil {
		return nil, err
	}
	amounts, _ := out[0].([]*big.Int)
	if len(amounts) != len(path) || amounts[len(amounts)-1].Sign() == 0 {
		return nil, service.Explained("quote", "the router has no liquidity for this pair")
	}
	return amounts[len(amounts)-1], nil
}

func (s *Server) allowance(ctx context.Context, token, owner, spender common.Address) (*big.Int, error) {
	out, err := s.ethCall(ctx, token, "allowance", owner, spender)
	if err != nil {
		return nil, err
	}
	v, _ := out[0].(*big.Int)
	if v == nil {
		v = new(big.Int)
	}
	return v, nil
}

// deadline is ten minutes after the latest block: the chain's clock, not
// this machine's.
func (s *Server) deadline(ctx context.Context) (*big.Int, error) {
	var head struct {
		Time hexutil.Uint64 `json:"timestamp"`
	}
	if err := s.upstream.CallContext(ctx, &head, "eth_getBlockByNumber", "latest", false); err != nil {
		return nil, &service.UpstreamError{Op: "read latest block", Err: err}
	}
	return new(big.Int).SetUint64(uint64(head.Time) + 600), nil
}

// mined waits for a transaction's receipt and fails if it reverted.
func (s *Server) mined(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, receiptWait)
	defer cancel()
	for {
		var r *types.Receipt
		err := s.upstream.CallContext(ctx, &r, "eth_getTransactionReceipt", hash)
		if err == nil && r != nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return r, service.Explained("swap", fmt.Sprintf("transaction %s reverted in block %d; call get_transaction for its state", hash.Hex(), r.BlockNumber))
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, service.Explained("swap", fmt.Sprintf("transaction %s was sent but not mined within %s; follow it with get_transaction", hash.Hex(), receiptWait))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// received is what the owner got from a swap's receipt: the token's
// transfers to the owner, or for ETH the WETH the router unwrapped.
func received(r *types.Receipt, buy asset, owner, router, weth common.Address) *big.Int {
	total := new(big.Int)
	for _, l := range r.Logs {
		switch {
		case buy.native && l.Address == weth && len(l.Topics) == 2 && l.Topics[0] == withdrawalTopic && common.BytesToAddress(l.Topics[1].Bytes()) == router:
			total.Add(total, new(big.Int).SetBytes(l.Data))
		case !buy.native && l.Address == buy.tok.Address && len(l.Topics) == 3 && l.Topics[0] == transferTopic && common.BytesToAddress(l.Topics[2].Bytes()) == owner:
			total.Add(total, new(big.Int).SetBytes(l.Data))
		}
	}
	return total
}
