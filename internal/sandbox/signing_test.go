package sandbox

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// permit2 is Uniswap's canonical Permit2 address. The dev chain has no
// Permit2 contract; signing a PermitSingle for it needs none.
var permit2 = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")

// permitSingle is a Permit2 PermitSingle document letting spender take
// amount (base units) of token.
func permitSingle(chainID uint64, token, spender common.Address, amount string) map[string]any {
	return map[string]any{
		"types": map[string]any{
			"EIP712Domain":  []map[string]string{{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}},
			"PermitDetails": []map[string]string{{"name": "token", "type": "address"}, {"name": "amount", "type": "uint160"}, {"name": "expiration", "type": "uint48"}, {"name": "nonce", "type": "uint48"}},
			"PermitSingle":  []map[string]string{{"name": "details", "type": "PermitDetails"}, {"name": "spender", "type": "address"}, {"name": "sigDeadline", "type": "uint256"}},
		},
		"primaryType": "PermitSingle",
		"domain":      map[string]any{"name": "Permit2", "chainId": chainID, "verifyingContract": permit2.Hex()},
		"message": map[string]any{
			"details":     map[string]any{"token": token.Hex(), "amount": amount, "expiration": "1800000000", "nonce": "0"},
			"spender":     spender.Hex(),
			"sigDeadline": "1800000000",
		},
	}
}

// permit2612 is an EIP-2612 Permit document of token letting spender
// take value.
func permit2612(chainID uint64, token, owner, spender common.Address, value string) map[string]any {
	return map[string]any{
		"types": map[string]any{
			"EIP712Domain": []map[string]string{{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}},
			"Permit":       []map[string]string{{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}},
		},
		"primaryType": "Permit",
		"domain":      map[string]any{"name": "USD Coin", "version": "1", "chainId": chainID, "verifyingContract": token.Hex()},
		"message":     map[string]any{"owner": owner.Hex(), "spender": spender.Hex(), "value": value, "nonce": "0", "deadline": "1800000000"},
	}
}

// recoverTyped returns the address that made sig over the document.
func recoverTyped(t *testing.T, doc map[string]any, sig []byte) common.Address {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(b, &td); err != nil {
		t.Fatal(err)
	}
	hash, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return recoverHash(t, hash, sig)
}

func recoverHash(t *testing.T, hash, sig []byte) common.Address {
	t.Helper()
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		t.Fatalf("signature %x: want 65 bytes ending in v = 27 or 28", sig)
	}
	s := append([]byte(nil), sig...)
	s[64] -= 27
	pub, err := crypto.SigToPub(hash, s)
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(*pub)
}

// TestTypedDataAndMessagesSwapOnly: a swap-only key with Permit2 allowed
// signs a PermitSingle to its router within the token's daily limit and
// nothing else: no EIP-2612 permits, no Permit2 to strangers, no amounts
// over the limit, no personal_sign and never eth_sign.
func TestTypedDataAndMessagesSwapOnly(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	owner, router, usdc := common.HexToAddress(info.Owner), common.HexToAddress(info.Router), common.HexToAddress(info.Tokens["USDC"])
	g := e.grant(map[string]any{"agent": "trader", "profile": "swap-only", "routers": []string{router.Hex()},
		"permit2": permit2.Hex(), "daily_limit": []string{"0.1ETH", "100USDC"}})
	tok := token(t, g)

	type outcome struct {
		code int    // 0: signed
		want string // substring of the refusal
	}
	tests := []struct {
		name string
		doc  map[string]any
		want outcome
	}{
		{"EIP-2612 Permit to a stranger", permit2612(info.ChainID, usdc, owner, stranger, "1000000"), outcome{4001, "no typed_data rule allows this domain and primary type"}},
		{"EIP-2612 Permit to the router", permit2612(info.ChainID, usdc, owner, router, "1000000"), outcome{4001, "typed data Permit for \"USD Coin\" is not allowed"}},
		{"Permit2 PermitSingle to a stranger", permitSingle(info.ChainID, usdc, stranger, "1000000"), outcome{4001, "spender must be one of"}},
		{"Permit2 PermitSingle to the router on another chain", permitSingle(1, usdc, router, "1000000"), outcome{4001, "its domain is for chain 1"}},
		{"Permit2 PermitSingle over the daily limit", permitSingle(info.ChainID, usdc, router, "100000001"), outcome{4001, "spends 100.000001 USDC, over the limit of 100 USDC"}},
		{"Permit2 PermitSingle of a token without a limit", permitSingle(info.ChainID, common.HexToAddress(info.WETH), router, "1"), outcome{4001, "the policy sets no limit for it"}},
		{"Permit2 PermitSingle to the router, 60 USDC", permitSingle(info.ChainID, usdc, router, "60000000"), outcome{}},
		{"another 60 USDC exceeds the day's 100", permitSingle(info.ChainID, usdc, router, "60000000"), outcome{4001, "over the limit of 100 USDC"}},
		{"the remaining 40 USDC", permitSingle(info.ChainID, usdc, router, "40000000"), outcome{}},
		{"one more base unit", permitSingle(info.ChainID, usdc, router, "1"), outcome{4001, "over the limit"}},
	}
	for _, tt := range tests {
		// Subtests run in order: later cases see the spend of earlier ones.
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(tok, "eth_signTypedData_v4", owner.Hex(), tt.doc)
			if tt.want.code != 0 {
				wantError(t, r, tt.want.code, tt.want.want)
				return
			}
			var sig hexutil.Bytes
			wantResult(t, r, &sig)
			if got := recoverTyped(t, tt.doc, sig); got != owner {
				t.Errorf("signature recovers to %s, want the owner %s", got.Hex(), owner.Hex())
			}
		})
	}

	var perms struct {
		Budget []struct{ Symbol, Spent, Remaining string } `json:"budget"`
	}
	wantResult(t, e.call(tok, "agentkeys_getPermissions"), &perms)
	for _, b := range perms.Budget {
		if b.Symbol == "USDC" && (b.Spent != "100" || b.Remaining != "0") {
			t.Errorf("USDC budget after 60+40 signed permits: spent %s remaining %s, want 100 and 0", b.Spent, b.Remaining)
		}
	}

	t.Run("personal_sign refused under swap-only", func(t *testing.T) {
		wantError(t, e.call(tok, "personal_sign", "hello from the agent", owner.Hex()), 4001, "messages: deny")
	})
	t.Run("eth_sign always refused", func(t *testing.T) {
		hash := crypto.Keccak256Hash([]byte("anything"))
		wantError(t, e.call(tok, "eth_sign", owner.Hex(), hash.Hex()), 4001, "eth_sign is always refused")
	})
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestSignTransactionChainBinding: an eth_signTransaction result is a
// typed transaction bound to the sandbox's chain id, signed by the owner,
// with the nonce the store allocated (Invariant 7).
func TestSignTransactionChainBinding(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	owner, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.WETH)
	g := e.grant(map[string]any{"agent": "payer", "policy": policyText("weth-deposits",
		"limits: [{asset: native, per_period: 1, period: 24h}]",
		"allow: [{contract: \""+weth.Hex()+"\", functions: [receive, \"deposit()\"]}]")})
	agent := e.agent(token(t, g))
	ctx := context.Background()

	deposit := calldata(t, "deposit()")
	tests := []struct {
		name  string
		tx    txObj
		value *big.Int
		data  []byte
	}{
		{"plain value transfer", txObj{To: &weth, Value: wei(0.01)}, wei(0.01).ToInt(), nil},
		{"deposit() with from", txObj{From: &owner, To: &weth, Value: wei(0.02), Data: deposit}, wei(0.02).ToInt(), deposit},
	}
	pending, err := e.sb.Chain.Client().PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw hexutil.Bytes
			if err := agent.CallContext(ctx, &raw, "eth_signTransaction", tt.tx); err != nil {
				t.Fatal(err)
			}
			var tx types.Transaction
			if err := tx.UnmarshalBinary(raw); err != nil {
				t.Fatalf("result %x is not a signed transaction: %v", raw, err)
			}
			if tx.Type() != types.DynamicFeeTxType {
				t.Errorf("type %d, want %d (EIP-1559)", tx.Type(), types.DynamicFeeTxType)
			}
			if tx.ChainId().Uint64() != info.ChainID {
				t.Errorf("chain id %s, want %d", tx.ChainId(), info.ChainID)
			}
			from, err := types.Sender(types.LatestSignerForChainID(new(big.Int).SetUint64(info.ChainID)), &tx)
			if err != nil || from != owner {
				t.Errorf("sender %s (%v), want the owner %s", from.Hex(), err, owner.Hex())
			}
			if _, err := types.Sender(types.LatestSignerForChainID(big.NewInt(1)), &tx); err == nil {
				t.Error("the signature also verifies for chain 1")
			}
			if *tx.To() != weth || tx.Value().Cmp(tt.value) != 0 || !bytesEqual(tx.Data(), tt.data) {
				t.Errorf("signed to %s value %s data %x, want %s %s %x", tx.To().Hex(), tx.Value(), tx.Data(), weth.Hex(), tt.value, tt.data)
			}
			if tx.Nonce() != pending+uint64(i) {
				t.Errorf("nonce %d, want %d", tx.Nonce(), pending+uint64(i))
			}
			if tx.Gas() < 21000 {
				t.Errorf("gas %d", tx.Gas())
			}
		})
	}
	t.Run("another chain id is refused", func(t *testing.T) {
		r := e.call(token(t, g), "eth_signTransaction", map[string]any{"to": weth.Hex(), "value": "0x1", "chainId": "0x1"})
		wantError(t, r, -32602, "chainId")
	})
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// TestReadsPassThrough: read methods are answered by the node itself.
func TestReadsPassThrough(t *testing.T) {
	e := start(t)
	owner := common.HexToAddress(e.sb.Info.Owner)
	tok := token(t, e.grant(map[string]any{"agent": "reader", "profile": "read-only"}))
	agent := e.agent(tok)
	node := e.sb.Chain.Client()
	ctx := context.Background()

	var bal hexutil.Big
	if err := agent.CallContext(ctx, &bal, "eth_getBalance", owner, "latest"); err != nil {
		t.Fatal(err)
	}
	want, err := node.BalanceAt(ctx, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.ToInt().Cmp(want) != 0 || want.Sign() == 0 {
		t.Fatalf("eth_getBalance through agentkeys = %s, node says %s", bal.ToInt(), want)
	}

	var bn hexutil.Uint64
	if err := agent.CallContext(ctx, &bn, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	if head, err := node.BlockNumber(ctx); err != nil || uint64(bn) != head {
		t.Errorf("eth_blockNumber = %d, node says %d (%v)", bn, head, err)
	}

	usdc := common.HexToAddress(e.sb.Info.Tokens["USDC"])
	var out hexutil.Bytes
	if err := agent.CallContext(ctx, &out, "eth_call", map[string]any{"to": usdc, "data": calldata(t, "balanceOf(address)", owner)}, "latest"); err != nil {
		t.Fatal(err)
	}
	if got, want := new(big.Int).SetBytes(out), e.tokenBalance(usdc, owner); got.Cmp(want) != 0 {
		t.Errorf("eth_call balanceOf = %s, node says %s", got, want)
	}

	// A read-only key reads but never signs.
	wantError(t, e.call(tok, "eth_signTransaction", map[string]any{"to": usdc.Hex(), "data": hexutil.Encode(calldata(t, "approve(address,uint256)", stranger, big.NewInt(1)))}), 4001, "read-only")
}

// TestSignedTransactionHoldsItsNonce: eth_signTransaction allocates a
// nonce for good (it is never handed out again), so a later
// eth_sendTransaction waits on chain behind it until the agent broadcasts
// what it signed; then both are mined in order.
func TestSignedTransactionHoldsItsNonce(t *testing.T) {
	e := start(t)
	owner, weth := common.HexToAddress(e.sb.Info.Owner), common.HexToAddress(e.sb.Info.WETH)
	agent := e.agent(token(t, e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "0.01")})))
	node := e.sb.Chain.Client()
	ctx := context.Background()
	first, err := node.PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}

	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)}); err != nil {
		t.Fatal(err)
	}
	var signed types.Transaction
	if err := signed.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)}); err != nil {
		t.Fatal(err)
	}
	sent, _, err := node.TransactionByHash(ctx, hash)
	if err != nil {
		t.Fatalf("the node does not know the sent transaction: %v", err)
	}
	if signed.Nonce() != first || sent.Nonce() != first+1 {
		t.Fatalf("nonces: signed %d, sent %d; want %d and %d", signed.Nonce(), sent.Nonce(), first, first+1)
	}
	if pending, err := node.PendingNonceAt(ctx, owner); err != nil || pending != first {
		t.Fatalf("pending nonce %d (%v) with nonce %d unbroadcast, want %d: the sent transaction cannot be mined before it", pending, err, first, first)
	}

	if err := node.SendTransaction(ctx, &signed); err != nil {
		t.Fatal(err)
	}
	for _, h := range []common.Hash{signed.Hash(), hash} {
		if r := e.receipt(h); r.Status != types.ReceiptStatusSuccessful {
			t.Errorf("tx %s reverted", h.Hex())
		}
	}
}
