// Command agent-go is an example trading agent built on the agentkeys Go
// client (github.com/agentkeys/agentkeys/client). It reads its endpoint
// and credential from $AGENTKEYS_RPC_URL and $AGENTKEYS_TOKEN, prints what
// its key may do, buys a token with a little ETH through a Uniswap-V2-style
// router (quoting first and bounding the slippage), and then tries to send
// the tokens to a stranger, which a swap-only key refuses with its
// reasons.
//
// On the sandbox (agentkeys sandbox writes the addresses to
// <home>/sandbox.json):
//
//	agentkeys key grant --agent agent-go --profile swap-only --daily-limit 0.5ETH --deliver env-file:agent.env
//	set -a; . ./agent.env; set +a
//	go run ./examples/agent-go -router 0xc317d3c0B3666A6BF430ABBB834D151DA55C646B -token 0x7512195096df8a1b347efA439F7994b78494d72A
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/client"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agent-go:", err)
		os.Exit(1)
	}
}

// The few functions the agent calls, on the router and on ERC-20 tokens.
var erc20Router = mustABI(`[
 {"type":"function","name":"WETH","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]},
 {"type":"function","name":"getAmountsOut","stateMutability":"view","inputs":[{"name":"amountIn","type":"uint256"},{"name":"path","type":"address[]"}],"outputs":[{"name":"amounts","type":"uint256[]"}]},
 {"type":"function","name":"swapExactETHForTokens","stateMutability":"payable","inputs":[{"name":"amountOutMin","type":"uint256"},{"name":"path","type":"address[]"},{"name":"to","type":"address"},{"name":"deadline","type":"uint256"}],"outputs":[{"name":"amounts","type":"uint256[]"}]},
 {"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"a","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"function","name":"decimals","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint8"}]},
 {"type":"function","name":"transfer","stateMutability":"nonpayable","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]}
]`)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return a
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("agent-go", flag.ContinueOnError)
	fs.SetOutput(out)
	var (
		routerHex = fs.String("router", "", "the DEX router (Uniswap V2 interface) the key may swap through")
		tokenHex  = fs.String("token", "", "the ERC-20 token to buy with ETH")
		amount    = fs.String("amount", "0.01", "ETH to spend, in whole ETH")
		slippage  = fs.String("max-slippage", "0.01", "the largest shortfall from the quote to accept, as a fraction")
		stranger  = fs.String("stranger", "0x000000000000000000000000000000000000dEaD", "where the agent tries to send the tokens, to show a refusal")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	router, err := addressFlag("router", *routerHex)
	if err != nil {
		return err
	}
	token, err := addressFlag("token", *tokenHex)
	if err != nil {
		return err
	}
	to, err := addressFlag("stranger", *stranger)
	if err != nil {
		return err
	}
	wei, err := decimalFlag("amount", *amount, 18)
	if err != nil {
		return err
	}
	slip, ok := new(big.Rat).SetString(*slippage)
	if !ok || slip.Sign() < 0 || slip.Cmp(big.NewRat(1, 1)) >= 0 {
		return fmt.Errorf("-max-slippage: expected a fraction from 0 to below 1, like 0.01, got %q", *slippage)
	}

	url, cred := getenv(client.EnvRPCURL), getenv(client.EnvToken)
	if url == "" || cred == "" {
		return fmt.Errorf("set %s and %s (agentkeys key grant --deliver env-file:PATH writes both)", client.EnvRPCURL, client.EnvToken)
	}
	c, err := client.Dial(ctx, url, cred)
	if err != nil {
		return err
	}
	defer c.Close()

	// 1. What may this key do?
	p, err := c.Permissions(ctx)
	if err != nil {
		return fmt.Errorf("read permissions: %w", err)
	}
	fmt.Fprintf(out, "key %s (agent %s) acts as %s until %s\n", p.KeyID, p.Agent, p.Address, p.ExpiresAt.UTC().Format(time.RFC3339))
	for _, l := range p.May {
		fmt.Fprintf(out, "  may:     %s\n", l)
	}
	for _, l := range p.MayNot {
		fmt.Fprintf(out, "  may not: %s\n", l)
	}
	for _, b := range p.Budget {
		if b.Remaining != "" {
			fmt.Fprintf(out, "  budget:  %s %s left of %s per %s\n", b.Remaining, b.Symbol, b.PerPeriod, b.Period)
		}
	}
	owner := common.HexToAddress(p.Address)

	// 2. Quote, then swap with a bounded slippage.
	var weth common.Address
	if err := read(ctx, c, router, &weth, "WETH"); err != nil {
		return err
	}
	var decimals uint8
	if err := read(ctx, c, token, &decimals, "decimals"); err != nil {
		return err
	}
	path := []common.Address{weth, token}
	var quote []*big.Int
	if err := read(ctx, c, router, &quote, "getAmountsOut", wei, path); err != nil {
		return err
	}
	minOut := new(big.Rat).Mul(new(big.Rat).SetInt(quote[len(quote)-1]), new(big.Rat).Sub(big.NewRat(1, 1), slip))
	min := new(big.Int).Quo(minOut.Num(), minOut.Denom())
	head, err := c.Eth().HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("read the chain head: %w", client.AsError(err))
	}
	deadline := new(big.Int).SetUint64(head.Time + 600) // the chain's time, not this machine's
	data, err := erc20Router.Pack("swapExactETHForTokens", min, path, owner, deadline)
	if err != nil {
		return err
	}
	var before, after *big.Int
	if err := read(ctx, c, token, &before, "balanceOf", owner); err != nil {
		return err
	}
	fmt.Fprintf(out, "swap %s ETH for at least %s tokens (quote %s)\n", *amount, units(min, decimals), units(quote[len(quote)-1], decimals))
	r, err := c.Transact(ctx, client.Tx{To: &router, Value: wei, Data: data})
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	if err := read(ctx, c, token, &after, "balanceOf", owner); err != nil {
		return err
	}
	bought := new(big.Int).Sub(after, before)
	fmt.Fprintf(out, "bought %s tokens in transaction %s (block %s)\n", units(bought, decimals), r.TxHash.Hex(), r.BlockNumber)

	// 3. Try to leave the box: send the tokens to a stranger.
	data, err = erc20Router.Pack("transfer", to, bought)
	if err != nil {
		return err
	}
	_, err = c.SendTransaction(ctx, client.Tx{To: &token, Data: data})
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Refused():
		fmt.Fprintf(out, "transfer to %s refused, as it should be:\n", to.Hex())
		for _, reason := range e.Reasons {
			fmt.Fprintf(out, "  - %s\n", reason)
		}
		return nil
	case err != nil:
		return fmt.Errorf("transfer: %w", err)
	}
	return fmt.Errorf("the key let the agent transfer tokens to %s: its policy allows more than a swap", to.Hex())
}

// read calls a view function through the daemon (eth_call) and unpacks
// its single result into v.
func read(ctx context.Context, c *client.Client, contract common.Address, v any, method string, args ...any) error {
	data, err := erc20Router.Pack(method, args...)
	if err != nil {
		return err
	}
	res, err := c.Eth().CallContract(ctx, ethereum.CallMsg{To: &contract, Data: data}, nil)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", method, contract.Hex(), client.AsError(err))
	}
	return erc20Router.UnpackIntoInterface(v, method, res)
}

func addressFlag(name, s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("-%s: expected an address (0x and 40 hex digits), got %q", name, s)
	}
	return common.HexToAddress(s), nil
}

// decimalFlag reads a whole-unit amount like 0.01 into base units.
func decimalFlag(name, s string, decimals int) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if ok {
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	}
	if !ok || r.Sign() <= 0 || !r.IsInt() {
		return nil, fmt.Errorf("-%s: expected a positive amount with at most %d decimals, like 0.01, got %q", name, decimals, s)
	}
	return r.Num(), nil
}

// units writes base units in whole units of a token with these decimals.
func units(v *big.Int, decimals uint8) string {
	r := new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
	return strings.TrimRight(strings.TrimRight(r.FloatString(int(decimals)), "0"), ".")
}
