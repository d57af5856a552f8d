package delegatetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/agentkeys/agentkeys/contracts"
	"github.com/agentkeys/agentkeys/contracts/bindings"
	"github.com/agentkeys/agentkeys/internal/devchain"
)

// testTimeout bounds each test's chain work; it is a hang guard, not a
// performance assertion.
const testTimeout = 3 * time.Minute

// refusedGas is the gas limit of transactions expected to revert: far more
// than any refusal needs, so a failure is the contract's and not out-of-gas.
const refusedGas = 3_000_000

var (
	delegateABI = bindings.NewAgentKeyDelegate()
	routerABI   = bindings.NewDemoRouter()
	tokenABI    = bindings.NewDemoToken()
)

// Selectors of the functions the test policies name.
var (
	selTransfer     = selector("transfer(address,uint256)")
	selApprove      = selector("approve(address,uint256)")
	selTransferFrom = selector("transferFrom(address,address,uint256)")
	selSwapTokens   = selector("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")
	selSwapETH      = selector("swapExactETHForTokens(uint256,address[],address,uint256)")
	selGrant        = selector("grant(address,(uint48,uint48,uint32,uint256,uint256,uint256,(address,bytes4,bool,bool,((uint32,bool,uint32),uint8,bool,uint8,bytes32[])[])[],(bytes4,uint8,(uint32,bool,uint32),(uint32,bool,uint32))[],(address,uint256,uint256)[]))")
)

func selector(sig string) [4]byte {
	var s [4]byte
	copy(s[:], crypto.Keccak256([]byte(sig))[:4])
	return s
}

// account is a key that signs its own transactions.
type account struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

func newAccount(t testing.TB) *account {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// funded is a new account with ETH, USDC and DAI on e's chain.
func (e *env) funded() *account {
	e.t.Helper()
	a := newAccount(e.t)
	if err := e.chain.Fund(e.ctx, a.addr); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// env is a chain on which owner's EOA delegates to AgentKeyDelegate.
type env struct {
	t        testing.TB
	ctx      context.Context
	chain    *devchain.Chain
	client   *ethclient.Client
	deployer *account // deploys AgentKeyDelegate, at nonce 0 on every chain
	owner    *account
	session  *account
	stranger *account
	delegate common.Address // the implementation the owner delegates to
	usdc     devchain.Token
	dai      devchain.Token
	router   common.Address
	weth     common.Address

	lastGrant *types.Transaction // the owner's last signed grant transaction
}

type envConfig struct {
	chainID uint64
	// keys to reuse, so the same accounts exist on two chains
	deployer, owner, session, stranger *account
}

func newEnv(t testing.TB, cfg envConfig) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	for _, a := range []**account{&cfg.deployer, &cfg.owner, &cfg.session, &cfg.stranger} {
		if *a == nil {
			*a = newAccount(t)
		}
	}
	chain, err := devchain.Start(ctx, devchain.Config{
		ChainID: cfg.chainID,
		Fund:    []common.Address{cfg.deployer.addr, cfg.owner.addr, cfg.session.addr, cfg.stranger.addr},
	})
	if err != nil {
		t.Fatalf("start devchain: %v", err)
	}
	t.Cleanup(func() {
		if err := chain.Close(); err != nil {
			t.Errorf("close devchain: %v", err)
		}
	})
	e := &env{
		t: t, ctx: ctx, chain: chain, client: chain.Client(),
		deployer: cfg.deployer, owner: cfg.owner, session: cfg.session, stranger: cfg.stranger,
		usdc: chain.Tokens()["USDC"], dai: chain.Tokens()["DAI"], router: chain.Router(), weth: chain.WETH(),
	}

	// Deploy the implementation, then let the owner delegate to it with a
	// self-sponsored SetCode transaction to its own address (which also runs
	// receive, so a delegated owner must still accept that call).
	r := e.mustSend(e.deployer, nil, nil, contracts.MustLoad("AgentKeyDelegate").Bytecode)
	e.delegate = r.ContractAddress
	e.delegateTo(e.owner, e.delegate)
	return e
}

// delegateTo installs the EIP-7702 delegation of a to impl, signed for this
// chain's id (never 0, so it cannot be replayed on another chain).
func (e *env) delegateTo(a *account, impl common.Address) {
	e.t.Helper()
	nonce := e.nonce(a.addr)
	auth, err := types.SignSetCode(a.key, types.SetCodeAuthorization{
		ChainID: *uint256.MustFromBig(e.chain.ChainID()),
		Address: impl,
		Nonce:   nonce + 1, // the transaction itself uses nonce first
	})
	if err != nil {
		e.t.Fatal(err)
	}
	tx := e.sign(a, &types.SetCodeTx{
		Nonce:    nonce,
		To:       a.addr,
		Value:    new(uint256.Int),
		Gas:      200_000,
		AuthList: []types.SetCodeAuthorization{auth},
	})
	r := e.sendTx(tx)
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("SetCode transaction of %s reverted", a.addr)
	}
	code, err := e.client.CodeAt(e.ctx, a.addr, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if want := types.AddressToDelegation(impl); !bytes.Equal(code, want) {
		e.t.Fatalf("code of %s = %x, want delegation %x", a.addr, code, want)
	}
}

// sub is e reporting to t, for subtests.
func (e *env) sub(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func (e *env) epoch() uint32 {
	e.t.Helper()
	ep, err := bind.Call(e.instance(), e.opts(), delegateABI.PackEpoch(), delegateABI.UnpackEpoch)
	if err != nil {
		e.t.Fatalf("epoch: %v", err)
	}
	return ep
}

// quote is the router's output for amountIn along path.
func (e *env) quote(amountIn *big.Int, path []common.Address) *big.Int {
	e.t.Helper()
	r := routerABI.Instance(e.client, e.router)
	amounts, err := bind.Call(r, e.opts(), routerABI.PackGetAmountsOut(amountIn, path), routerABI.UnpackGetAmountsOut)
	if err != nil {
		e.t.Fatalf("quote: %v", err)
	}
	return amounts[len(amounts)-1]
}

// nonce is a's next nonce. The pool's pending nonce can trail the head for
// a moment after a block (it misses the bump of a SetCode authorization
// until the pool resets), so the larger of it and the head's nonce is taken.
func (e *env) nonce(a common.Address) uint64 {
	e.t.Helper()
	pending, err := e.client.PendingNonceAt(e.ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	mined, err := e.client.NonceAt(e.ctx, a, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return max(pending, mined)
}

func (e *env) head() *types.Header {
	e.t.Helper()
	h, err := e.client.HeaderByNumber(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// sign fills in chain id and fees (and the nonce of a DynamicFeeTx) and signs.
func (e *env) sign(a *account, inner types.TxData) *types.Transaction {
	e.t.Helper()
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(e.head().BaseFee, big.NewInt(2)), tip)
	switch tx := inner.(type) {
	case *types.DynamicFeeTx:
		tx.ChainID, tx.GasTipCap, tx.GasFeeCap = e.chain.ChainID(), tip, feeCap
	case *types.SetCodeTx:
		tx.ChainID = uint256.MustFromBig(e.chain.ChainID())
		tx.GasTipCap, tx.GasFeeCap = uint256.MustFromBig(tip), uint256.MustFromBig(feeCap)
	default:
		e.t.Fatalf("sign: unsupported %T", inner)
	}
	signed, err := types.SignNewTx(a.key, types.LatestSignerForChainID(e.chain.ChainID()), inner)
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// signCall signs a call from a; gas 0 means estimate, which fails the test if
// the call would revert.
func (e *env) signCall(a *account, to *common.Address, value *big.Int, data []byte, gas uint64) *types.Transaction {
	e.t.Helper()
	if value == nil {
		value = new(big.Int)
	}
	if gas == 0 {
		est, err := e.client.EstimateGas(e.ctx, ethereum.CallMsg{From: a.addr, To: to, Value: value, Data: data})
		if err != nil {
			e.t.Fatalf("estimate gas of call from %s to %v: %v%s", a.addr, to, err, e.explain(err))
		}
		gas = est + est/4
	}
	return e.sign(a, &types.DynamicFeeTx{Nonce: e.nonce(a.addr), To: to, Value: value, Data: data, Gas: gas})
}

func (e *env) sendTx(tx *types.Transaction) *types.Receipt {
	e.t.Helper()
	for {
		err := e.client.SendTransaction(e.ctx, tx)
		if err == nil {
			break
		}
		// go-ethereum's pool lets an account with a delegation have only one
		// transaction in flight, and drops a mined one only after the next
		// head event, a moment after its receipt is readable.
		if !strings.Contains(err.Error(), txpool.ErrInflightTxLimitReached.Error()) {
			e.t.Fatalf("send transaction: %v", err)
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("send transaction: %v", e.ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	for {
		r, err := e.client.TransactionReceipt(e.ctx, tx.Hash())
		// A receipt can be readable a moment before its block is the head
		// that "latest" reads; wait for both, so reads see the transaction.
		if err == nil && e.head().Number.Cmp(r.BlockNumber) >= 0 {
			return r
		}
		if err != nil && !errors.Is(err, ethereum.NotFound) {
			e.t.Fatal(err)
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("receipt of %s: %v", tx.Hash(), e.ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// mustSend sends a call that must succeed; to nil deploys.
func (e *env) mustSend(a *account, to *common.Address, value *big.Int, data []byte) *types.Receipt {
	e.t.Helper()
	r := e.sendTx(e.signCall(a, to, value, data, 0))
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("transaction %s from %s reverted: %x", r.TxHash, a.addr, e.revertData(r.TxHash))
	}
	return r
}

// mustRefuse sends a call with a generous fixed gas limit, bypassing any
// pre-flight check, and asserts that the chain reverted it with want (the
// ABI encoding of a custom error), as read back from a trace of the mined
// transaction.
func (e *env) mustRefuse(a *account, to common.Address, value *big.Int, data []byte, want []byte) *types.Receipt {
	e.t.Helper()
	r := e.sendTx(e.signCall(a, &to, value, data, refusedGas))
	if r.Status != types.ReceiptStatusFailed {
		e.t.Fatalf("transaction %s from %s to %s succeeded, want it refused with %s", r.TxHash, a.addr, to, errorName(want))
	}
	if r.GasUsed >= refusedGas {
		e.t.Fatalf("transaction %s ran out of gas, want it refused with %s", r.TxHash, errorName(want))
	}
	if got := e.revertData(r.TxHash); !bytes.Equal(got, want) {
		e.t.Fatalf("transaction %s reverted with %s, want %s", r.TxHash, errorName(got), errorName(want))
	}
	return r
}

// execute sends execute(target, value, data) from the session key.
func (e *env) execute(s *account, target common.Address, value *big.Int, data []byte) *types.Receipt {
	e.t.Helper()
	return e.mustSend(s, &e.owner.addr, nil, delegateABI.PackExecute(target, orZero(value), data))
}

// refuseExecute asserts that check() reports want for the call and that
// execute of it, sent by the session key itself, is reverted by the chain
// with want.
func (e *env) refuseExecute(s *account, target common.Address, value *big.Int, data []byte, want []byte) {
	e.t.Helper()
	ok, reason := e.check(s.addr, target, value, data)
	if ok || !bytes.Equal(reason, want) {
		e.t.Errorf("check: ok=%v reason %s, want refused with %s", ok, errorName(reason), errorName(want))
	}
	e.mustRefuse(s, e.owner.addr, nil, delegateABI.PackExecute(target, orZero(value), data), want)
}

func (e *env) check(session, target common.Address, value *big.Int, data []byte) (bool, []byte) {
	e.t.Helper()
	out, err := bind.Call(e.instance(), e.opts(), delegateABI.PackCheck(session, target, orZero(value), data), delegateABI.UnpackCheck)
	if err != nil {
		e.t.Fatalf("check: %v%s", err, e.explain(err))
	}
	return out.Ok, out.Reason
}

func (e *env) instance() *bind.BoundContract { return delegateABI.Instance(e.client, e.owner.addr) }

func (e *env) opts() *bind.CallOpts { return &bind.CallOpts{Context: e.ctx} }

// grant sends grant(session, cfg) from the owner to itself.
func (e *env) grant(session common.Address, cfg bindings.AgentKeyDelegateSessionConfig) *types.Receipt {
	e.t.Helper()
	tx := e.signCall(e.owner, &e.owner.addr, nil, delegateABI.PackGrant(session, cfg), 0)
	e.lastGrant = tx
	r := e.sendTx(tx)
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("grant reverted: %s", errorName(e.revertData(r.TxHash)))
	}
	return r
}

func (e *env) sessionInfo(session common.Address) bindings.SessionInfoOutput {
	e.t.Helper()
	out, err := bind.Call(e.instance(), e.opts(), delegateABI.PackSessionInfo(session), delegateABI.UnpackSessionInfo)
	if err != nil {
		e.t.Fatalf("sessionInfo: %v", err)
	}
	return out
}

func (e *env) remaining(session common.Address) bindings.RemainingOutput {
	e.t.Helper()
	out, err := bind.Call(e.instance(), e.opts(), delegateABI.PackRemaining(session), delegateABI.UnpackRemaining)
	if err != nil {
		e.t.Fatalf("remaining: %v", err)
	}
	return out
}

func (e *env) ethBalance(a common.Address) *big.Int {
	e.t.Helper()
	b, err := e.client.BalanceAt(e.ctx, a, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) tokenBalance(token, a common.Address) *big.Int {
	e.t.Helper()
	b, err := bind.Call(tokenABI.Instance(e.client, token), e.opts(), tokenABI.PackBalanceOf(a), tokenABI.UnpackBalanceOf)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) allowance(token, owner, spender common.Address) *big.Int {
	e.t.Helper()
	b, err := bind.Call(tokenABI.Instance(e.client, token), e.opts(), tokenABI.PackAllowance(owner, spender), tokenABI.UnpackAllowance)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// deadline is a swap deadline an hour after the head block.
func (e *env) deadline() *big.Int {
	e.t.Helper()
	return new(big.Int).SetUint64(e.head().Time + 3600)
}

// swapTokens is swapExactTokensForTokens(amountIn, 0, path, to, deadline).
func (e *env) swapTokens(amountIn *big.Int, path []common.Address, to common.Address) []byte {
	e.t.Helper()
	return routerABI.PackSwapExactTokensForTokens(amountIn, new(big.Int), path, to, e.deadline())
}

// swapETH is swapExactETHForTokens(0, [WETH, token], to, deadline).
func (e *env) swapETH(token, to common.Address) []byte {
	e.t.Helper()
	return routerABI.PackSwapExactETHForTokens(new(big.Int), []common.Address{e.weth, token}, to, e.deadline())
}

// revertData is what the mined transaction reverted with, from a call trace.
func (e *env) revertData(tx common.Hash) []byte {
	e.t.Helper()
	var trace struct {
		Output hexutil.Bytes `json:"output"`
		Error  string        `json:"error"`
	}
	err := e.client.Client().CallContext(e.ctx, &trace, "debug_traceTransaction", tx, map[string]any{"tracer": "callTracer"})
	if err != nil {
		e.t.Fatalf("trace %s: %v", tx, err)
	}
	if trace.Error == "" {
		return nil
	}
	return trace.Output
}

// logs decodes the delegate's events in r.
func (e *env) logs(r *types.Receipt) []string {
	e.t.Helper()
	var out []string
	for _, l := range r.Logs {
		if l.Address != e.owner.addr {
			continue
		}
		if ev, err := delegateABI.UnpackExecutedEvent(l); err == nil {
			out = append(out, fmt.Sprintf("Executed(%s, %s, %x, %s)", ev.Session, ev.Target, ev.Selector, ev.Value))
		} else if ev, err := delegateABI.UnpackSessionGrantedEvent(l); err == nil {
			out = append(out, fmt.Sprintf("SessionGranted(%s, %s, %s, %d)", ev.Session, ev.ValidAfter, ev.ValidUntil, ev.Epoch))
		} else if ev, err := delegateABI.UnpackSessionRevokedEvent(l); err == nil {
			out = append(out, fmt.Sprintf("SessionRevoked(%s)", ev.Session))
		} else if ev, err := delegateABI.UnpackAllSessionsRevokedEvent(l); err == nil {
			out = append(out, fmt.Sprintf("AllSessionsRevoked(%d)", ev.Epoch))
		} else {
			out = append(out, fmt.Sprintf("unknown log %x", l.Topics[0]))
		}
	}
	return out
}

// errData is the ABI encoding of the delegate's custom error name(args...).
func errData(name string, args ...any) []byte {
	e, ok := delegateABI.GetABI().Errors[name]
	if !ok {
		panic("no error " + name)
	}
	packed, err := e.Inputs.Pack(args...)
	if err != nil {
		panic(fmt.Sprintf("pack %s: %v", name, err))
	}
	return append(bytes.Clone(e.ID[:4]), packed...)
}

// errorName renders revert data for failure messages.
func errorName(data []byte) string {
	if len(data) == 0 {
		return "(empty revert)"
	}
	if len(data) >= 4 {
		for name, ev := range delegateABI.GetABI().Errors {
			if bytes.Equal(ev.ID[:4], data[:4]) {
				args, err := ev.Inputs.Unpack(data[4:])
				if err != nil {
					return fmt.Sprintf("%s(undecodable %x)", name, data[4:])
				}
				parts := make([]string, len(args))
				for i, a := range args {
					if b, ok := a.([]byte); ok {
						parts[i] = errorName(b) // CallFailed wraps the target's revert
					} else {
						parts[i] = fmt.Sprint(a)
					}
				}
				return name + "(" + strings.Join(parts, ", ") + ")"
			}
		}
		if reason, err := abi.UnpackRevert(data); err == nil {
			return fmt.Sprintf("Error(%q)", reason)
		}
	}
	return fmt.Sprintf("%x", data)
}

// explain renders the revert data of an eth_call or eth_estimateGas error.
func (e *env) explain(err error) string {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return ""
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return ""
	}
	data, derr := hexutil.Decode(s)
	if derr != nil {
		return ""
	}
	return ": " + errorName(data)
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// milliEther is milli/1000 ether in wei.
func milliEther(milli int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(milli), big.NewInt(params.Ether/1000))
}
