package sandbox

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/secrets"
)

func TestCloseTwiceReturns(t *testing.T) {
	e := start(t)
	done := make(chan error, 1)
	go func() {
		e.sb.Close()
		done <- e.sb.Close()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a second Close blocked")
	}
}

// TestMalformedRequestsAreAuditedAndRateLimited: a request a key makes
// with bad parameters is recorded as a refusal and counts toward its rate.
func TestMalformedRequestsAreAuditedAndRateLimited(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "policy": "name: p\nchains: [31337]\nrate: {max: 2, per: 1m}\nallow:\n  - contract: \"*\"\n    functions: [\"*\"]\n"})
	agent := e.agent(g["token"].(string))
	ctx := context.Background()
	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	nonce := hexutil.Uint64(5)
	var out any
	err := agent.CallContext(ctx, &out, "eth_sendTransaction", map[string]any{"to": to, "nonce": nonce})
	if code, _, _ := rpcCode(err); code != -32602 {
		t.Fatalf("nonce given: %v", err)
	}
	err = agent.CallContext(ctx, &out, "personal_sign", "0x68656c6c6f", "0x1234")
	if code, _, _ := rpcCode(err); code != -32602 {
		t.Fatalf("bad address: %v", err)
	}
	head, _ := e.sb.Home.Store.AuditHead(ctx)
	recs, _ := e.sb.Home.Store.AuditRecords(ctx, head.Seq-2, 2)
	for _, r := range recs {
		if r.KeyID != g["key_id"] || r.Decision != "deny" || !strings.HasPrefix(strings.Join(r.Reasons, ""), "invalid params: ") {
			t.Errorf("audit record %+v", r)
		}
	}
	var bn hexutil.Uint64
	wantRefused(t, agent.CallContext(ctx, &bn, "eth_blockNumber"), 4001, "rate limit reached")
}

// TestUnsupportedMethodIsAudited: a key asking for a method agentkeys does
// not offer is refused with 4200 and the refusal is in the audit log.
func TestUnsupportedMethodIsAudited(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "profile": "read-only"})
	var out any
	err := e.agent(g["token"].(string)).CallContext(context.Background(), &out, "debug_traceTransaction", "0x00")
	if code, _, _ := rpcCode(err); code != 4200 {
		t.Fatalf("got %v, want 4200", err)
	}
	head, _ := e.sb.Home.Store.AuditHead(context.Background())
	recs, _ := e.sb.Home.Store.AuditRecords(context.Background(), head.Seq-1, 1)
	if len(recs) != 1 || recs[0].KeyID != g["key_id"] || recs[0].Method != "debug_traceTransaction" || recs[0].Decision != "deny" {
		t.Fatalf("last audit record = %+v", recs)
	}
}

// TestWalletSendTransactionAlias: viem retries eth_sendTransaction as
// wallet_sendTransaction on -32602; the alias keeps the original error.
func TestWalletSendTransactionAlias(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "profile": "full-access"})
	var out any
	err := e.agent(g["token"].(string)).CallContext(context.Background(), &out, "wallet_sendTransaction", map[string]any{"to": stranger, "nonce": "0x1"})
	if code, _, msg := rpcCode(err); code != -32602 || !strings.Contains(msg, "nonce") {
		t.Fatalf("got %d %q", code, msg)
	}
}

// TestRelaySignedTransaction: what eth_signTransaction returned can be
// broadcast through agentkeys, closing the nonce it holds; transactions
// signed by anyone else are not relayed.
func TestRelaySignedTransaction(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "profile": "full-access", "daily_limit": []string{"1ETH"}})
	agent := e.agent(g["token"].(string))
	ctx := context.Background()
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{To: &stranger, Value: wei(0.001)}); err != nil {
		t.Fatal(err)
	}
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendRawTransaction", raw); err != nil {
		t.Fatalf("relay own transaction: %v", err)
	}
	if r := e.receipt(hash); r.Status != 1 || hash != decodeTx(t, raw).Hash() {
		t.Fatalf("relayed transaction: %+v", r)
	}
	other, _ := secrets.GenerateKey()
	foreign, _ := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: e.sb.Chain.ChainID(), Gas: 21000, To: &stranger, GasFeeCap: big.NewInt(1e9), Value: big.NewInt(1)}),
		types.LatestSignerForChainID(e.sb.Chain.ChainID()), other.ECDSA())
	b, _ := foreign.MarshalBinary()
	err := agent.CallContext(ctx, &hash, "eth_sendRawTransaction", hexutil.Bytes(b))
	if code, _, msg := rpcCode(err); code != -32602 || !strings.Contains(msg, "only transactions signed for this key") {
		t.Fatalf("foreign transaction: %d %q", code, msg)
	}
}

func TestOverlongMethodNameIsNotAudited(t *testing.T) {
	e := start(t)
	g := e.grant(map[string]any{"agent": "bot", "profile": "read-only"})
	before, _ := e.sb.Home.Store.AuditHead(context.Background())
	var out any
	err := e.agent(g["token"].(string)).CallContext(context.Background(), &out, strings.Repeat("x", 5000))
	if code, _, _ := rpcCode(err); code != -32600 {
		t.Fatalf("got %v, want -32600", err)
	}
	if after, _ := e.sb.Home.Store.AuditHead(context.Background()); after.Seq != before.Seq {
		t.Fatalf("an overlong method name reached the audit log")
	}
}
