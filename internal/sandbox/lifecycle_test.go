package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
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
