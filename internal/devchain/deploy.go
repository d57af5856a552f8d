package devchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/agentkeys/agentkeys/contracts"
	"github.com/agentkeys/agentkeys/contracts/bindings"
	"github.com/agentkeys/agentkeys/internal/delegation"
)

// Pool sizes, in whole units. Deep pools keep demo-sized trades close to
// the quoted prices: 1 ETH = 3000 USDC = 3000 DAI.
const (
	poolETH        = 1_000
	poolStablePerE = 3_000 // stablecoins per ETH
	poolStables    = 3_000_000
)

// call is one transaction from the deployer.
type call struct {
	what  string
	to    *common.Address // nil creates a contract
	value *big.Int
	data  []byte
}

// deployDemo deploys WETH9, the demo tokens and the router, seeds the three
// pools and mints demo tokens to fund. Batches are ordered so that every
// call's gas can be estimated against already-sealed state.
func (c *Chain) deployDemo(ctx context.Context, fund []common.Address, withDelegate bool) error {
	weth9 := contracts.MustLoad("WETH9")
	token := contracts.MustLoad("DemoToken")
	router := contracts.MustLoad("DemoRouter")

	usdc := Token{Symbol: "USDC", Name: "Demo USD Coin", Decimals: 6}
	dai := Token{Symbol: "DAI", Name: "Demo Dai", Decimals: 18}
	usdcCode, err := token.DeployData(usdc.Name, usdc.Symbol, usdc.Decimals)
	if err != nil {
		return err
	}
	daiCode, err := token.DeployData(dai.Name, dai.Symbol, dai.Decimals)
	if err != nil {
		return err
	}
	receipts, err := c.transact(ctx, []call{
		{what: "deploy WETH9", data: weth9.Bytecode},
		{what: "deploy USDC", data: usdcCode},
		{what: "deploy DAI", data: daiCode},
	})
	if err != nil {
		return err
	}
	c.weth, usdc.Address, dai.Address = receipts[0].ContractAddress, receipts[1].ContractAddress, receipts[2].ContractAddress
	c.tokens = map[string]Token{
		"WETH": {Symbol: "WETH", Name: "Wrapped Ether", Address: c.weth, Decimals: 18},
		"USDC": usdc,
		"DAI":  dai,
	}

	routerCode, err := router.DeployData(c.weth)
	if err != nil {
		return err
	}
	erc20 := bindings.NewDemoToken()
	receipts, err = c.transact(ctx, []call{
		{what: "deploy DemoRouter", data: routerCode},
		{what: "mint USDC for pools", to: &usdc.Address, data: erc20.PackMint(c.deployer, usdc.Units(poolETH*poolStablePerE+poolStables))},
		{what: "mint DAI for pools", to: &dai.Address, data: erc20.PackMint(c.deployer, dai.Units(poolETH*poolStablePerE+poolStables))},
	})
	if err != nil {
		return err
	}
	c.router = receipts[0].ContractAddress

	maxUint := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	if _, err := c.transact(ctx, []call{
		{what: "approve USDC", to: &usdc.Address, data: erc20.PackApprove(c.router, maxUint)},
		{what: "approve DAI", to: &dai.Address, data: erc20.PackApprove(c.router, maxUint)},
	}); err != nil {
		return err
	}

	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	deadline := new(big.Int).SetUint64(head.Time + 3600)
	r := bindings.NewDemoRouter()
	ethIn := ether(poolETH)
	if _, err := c.transact(ctx, []call{
		{what: "seed ETH/USDC pool", to: &c.router, value: ethIn,
			data: r.PackAddLiquidityETH(usdc.Address, usdc.Units(poolETH*poolStablePerE), common.Big0, common.Big0, c.deployer, deadline)},
		{what: "seed ETH/DAI pool", to: &c.router, value: ethIn,
			data: r.PackAddLiquidityETH(dai.Address, dai.Units(poolETH*poolStablePerE), common.Big0, common.Big0, c.deployer, deadline)},
		{what: "seed USDC/DAI pool", to: &c.router,
			data: r.PackAddLiquidity(usdc.Address, dai.Address, usdc.Units(poolStables), dai.Units(poolStables), common.Big0, common.Big0, c.deployer, deadline)},
	}); err != nil {
		return err
	}

	if withDelegate {
		// Through the deterministic deployment proxy, so it has the
		// address `agentkeys wallet deploy-delegate` gives it on any chain
		// with the proxy.
		to, data, err := delegation.DeployCall(delegation.MethodCreate2)
		if err != nil {
			return err
		}
		if _, err := c.transact(ctx, []call{{what: "deploy AgentKeyDelegate", to: to, data: data}}); err != nil {
			return err
		}
		c.delegate = delegation.DeterministicAddress()
		if ok, err := delegation.IsAgentKeyDelegate(ctx, c.client, c.delegate); err != nil || !ok {
			return fmt.Errorf("deploy AgentKeyDelegate: no contract code at %s (%v)", c.delegate.Hex(), err)
		}
	}

	_, err = c.transact(ctx, c.fundCalls(fund, false))
	return err
}

// Fund gives each address the ether configured as Config.FundETH and
// FundTokenUnits of every demo token, as Config.Fund does at start-up, for
// accounts created after Start.
func (c *Chain) Fund(ctx context.Context, addrs ...common.Address) error {
	_, err := c.transact(ctx, c.fundCalls(addrs, true))
	return err
}

func (c *Chain) fundCalls(addrs []common.Address, withETH bool) []call {
	erc20 := bindings.NewDemoToken()
	var calls []call
	for _, a := range addrs {
		if withETH && c.fundETH.Sign() > 0 {
			calls = append(calls, call{what: "fund " + a.Hex() + " with ETH", to: &a, value: c.fundETH})
		}
		for _, sym := range []string{"USDC", "DAI"} {
			t := c.tokens[sym]
			calls = append(calls, call{what: "mint " + sym + " to " + a.Hex(), to: &t.Address, data: erc20.PackMint(a, t.Units(FundTokenUnits))})
		}
	}
	return calls
}

// transact sends calls from the deployer with consecutive nonces, seals
// them and returns their receipts, failing if any reverted.
func (c *Chain) transact(ctx context.Context, calls []call) ([]*types.Receipt, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	c.deployMu.Lock()
	defer c.deployMu.Unlock()

	nonce, err := c.client.PendingNonceAt(ctx, c.deployer)
	if err != nil {
		return nil, fmt.Errorf("deployer nonce: %w", err)
	}
	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	signer := types.LatestSignerForChainID(c.chainID)

	hashes := make([]common.Hash, len(calls))
	for i, cl := range calls {
		value := cl.value
		if value == nil {
			value = new(big.Int)
		}
		gas, err := c.client.EstimateGas(ctx, ethereum.CallMsg{From: c.deployer, To: cl.to, Value: value, Data: cl.data})
		if err != nil {
			return nil, fmt.Errorf("%s: estimate gas: %w", cl.what, err)
		}
		tx, err := types.SignNewTx(c.deployerKey, signer, &types.DynamicFeeTx{
			ChainID:   c.chainID,
			Nonce:     nonce + uint64(i),
			GasTipCap: tip,
			GasFeeCap: feeCap,
			Gas:       gas + gas/4, // estimates are exact; leave room for state that moved
			To:        cl.to,
			Value:     value,
			Data:      cl.data,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: sign: %w", cl.what, err)
		}
		if err := c.client.SendTransaction(ctx, tx); err != nil {
			return nil, fmt.Errorf("%s: send: %w", cl.what, err)
		}
		hashes[i] = tx.Hash()
	}

	// Seal here rather than wait for automine, which is not running yet
	// during Start.
	c.sealMu.Lock()
	if c.closed {
		c.sealMu.Unlock()
		return nil, ErrClosed
	}
	c.sealPendingLocked()
	c.sealMu.Unlock()

	receipts := make([]*types.Receipt, len(calls))
	for i, h := range hashes {
		r, err := waitReceipt(ctx, c.client, h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", calls[i].what, err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return nil, fmt.Errorf("%s: transaction %s reverted", calls[i].what, h)
		}
		receipts[i] = r
	}
	return receipts, nil
}

// waitReceipt polls briefly: the block is already sealed, but the receipt
// lookup may trail the head by a moment.
func waitReceipt(ctx context.Context, client ethereum.TransactionReader, hash common.Hash) (*types.Receipt, error) {
	for {
		r, err := client.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) {
			return nil, fmt.Errorf("receipt of %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("receipt of %s: %w", hash, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
