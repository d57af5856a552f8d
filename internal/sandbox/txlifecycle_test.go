package sandbox

import (
	"context"
	"errors"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestUnsentSignatureDoesNotStallTheAccount: one eth_signTransaction
// result is never broadcast, and ten eth_sendTransaction requests queue
// behind its nonce on the real EVM. Once stuck-after has passed on the
// injected clock, one sweep cancels the stale one at its nonce, and all
// ten are mined with distinct nonces; the transactions list shows each
// one's fate and the audit log verifies.
func TestUnsentSignatureDoesNotStallTheAccount(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	owner := common.HexToAddress(e.sb.Info.Owner)
	g := e.grant(map[string]any{"agent": "payer", "profile": "full-access", "daily_limit": []string{"1ETH"}})
	keyID := g["key_id"].(string)
	agent := e.agent(token(t, g))
	node := e.sb.Chain.Client()

	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{From: &owner, To: &stranger, Value: wei(0.001)}); err != nil {
		t.Fatal(err)
	}
	stale := decodeTx(t, raw)
	sent := make([]common.Hash, 10)
	for i := range sent {
		if err := agent.CallContext(ctx, &sent[i], "eth_sendTransaction", txObj{From: &owner, To: &stranger, Value: wei(0.001)}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// They wait behind the stale nonce: none can be mined.
	if _, err := node.TransactionReceipt(ctx, sent[0]); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("a transaction behind the unsent nonce was mined: %v", err)
	}
	rep, err := e.sb.Service.Sweep(ctx)
	if err != nil || len(rep.CancelSent) != 0 {
		t.Fatalf("sweep before stuck-after = %+v, %v; want no cancel", rep, err)
	}

	e.clock.Advance(service.DefaultStuckAfter + time.Second)
	if rep, err = e.sb.Service.Sweep(ctx); err != nil || !slices.Equal(rep.CancelSent, []string{stale.Hash().Hex()}) {
		t.Fatalf("sweep after stuck-after = %+v, %v; want %s cancelled", rep, err, stale.Hash().Hex())
	}
	nonces := map[uint64]common.Hash{}
	for i, h := range sent {
		if r := e.receipt(h); r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("send %d: status %d", i, r.Status)
		}
		tx, _, err := node.TransactionByHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := nonces[tx.Nonce()]; dup {
			t.Fatalf("nonce %d used by %s and %s", tx.Nonce(), prev.Hex(), h.Hex())
		}
		nonces[tx.Nonce()] = h
	}
	if _, dup := nonces[stale.Nonce()]; dup {
		t.Fatalf("the stale nonce %d was used by a send", stale.Nonce())
	}
	// The sweep that sent the cancel may already have seen some of them
	// mined; this one finds the rest.
	if rep, err = e.sb.Service.Sweep(ctx); err != nil || rep.Errors != 0 {
		t.Fatalf("sweep after mining = %+v, %v", rep, err)
	}

	// What the owner sees.
	var all []service.TxInfo
	if code := e.admin("GET", "/v1/txs?key="+keyID, nil, &all); code != http.StatusOK || len(all) != 12 {
		t.Fatalf("GET /v1/txs?key: HTTP %d, %d transactions; want 12", code, len(all))
	}
	states := map[string]int{}
	for _, v := range all {
		states[v.Kind+" "+v.State]++
	}
	if want := map[string]int{"agent included": 10, "agent cancelled": 1, "cancel included": 1}; !maps.Equal(states, want) {
		t.Fatalf("transactions by kind and state: %v, want %v", states, want)
	}
	if rep, err = e.sb.Service.Sweep(ctx); err != nil || rep.Checked != 0 {
		t.Fatalf("a sweep still follows final transactions: %+v, %v", rep, err)
	}
	var cancelled []service.TxInfo
	if code := e.admin("GET", "/v1/txs?state=cancelled", nil, &cancelled); code != http.StatusOK || len(cancelled) != 1 || cancelled[0].Hash != stale.Hash().Hex() {
		t.Fatalf("GET /v1/txs?state=cancelled: HTTP %d %+v", code, cancelled)
	}
	var c service.TxInfo
	if code := e.admin("GET", "/v1/txs/"+cancelled[0].CancelledBy, nil, &c); code != http.StatusOK || c.Kind != store.TxKindCancel ||
		c.State != store.TxIncluded || c.Nonce != stale.Nonce() || c.Cancels != stale.Hash().Hex() || c.Status == nil || *c.Status != 1 {
		t.Fatalf("GET /v1/txs/{cancel}: HTTP %d %+v", code, c)
	}
	// The budget followed the chain: the ten landed and are settled at
	// their actual fees, nothing is pending, and the cancelled one's value
	// and fee were released, with an audit record.
	var perms struct {
		Budget []struct {
			Asset      string `json:"asset"`
			RawSpent   string `json:"raw_spent"`
			RawPending string `json:"raw_pending"`
		} `json:"budget"`
	}
	if err := agent.CallContext(ctx, &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatal(err)
	}
	var fees big.Int
	for _, h := range sent {
		r := e.receipt(h)
		fees.Add(&fees, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
	}
	wantSpent := new(big.Int).Add(&fees, new(big.Int).Mul(big.NewInt(10), wei(0.001).ToInt()))
	if b := perms.Budget[0]; b.Asset != "native" || b.RawSpent != wantSpent.String() || b.RawPending != "0" {
		t.Errorf("native budget after the sweep = %+v; want spent %s (ten values and their actual fees), nothing pending", b, wantSpent)
	}
	released := false
	for _, r := range e.auditRecords() {
		if r.Method == "agentkeys_txReleased" && strings.Contains(string(r.Call), strings.ToLower(stale.Hash().Hex())) {
			released = true
		}
	}
	if !released {
		t.Errorf("no agentkeys_txReleased record for the cancelled %s", stale.Hash().Hex())
	}

	var shown service.TxInfo
	if code := e.admin("GET", "/v1/txs/"+sent[3].Hex(), nil, &shown); code != http.StatusOK || shown.State != store.TxIncluded || shown.KeyID != keyID ||
		shown.To != stranger.Hex() || shown.Value != "1000000000000000" || !shown.Send {
		t.Fatalf("GET /v1/txs/{hash}: HTTP %d %+v", code, shown)
	}
	var msg map[string]string
	if code := e.admin("GET", "/v1/txs?state=mined", nil, &msg); code != http.StatusBadRequest || !strings.Contains(msg["error"], "state: expected one of") {
		t.Fatalf("GET /v1/txs?state=mined: HTTP %d %v", code, msg)
	}
	if code := e.admin("GET", "/v1/txs/0x"+strings.Repeat("ab", 32), nil, &msg); code != http.StatusNotFound {
		t.Fatalf("GET /v1/txs/{unknown}: HTTP %d %v", code, msg)
	}
	if code := e.admin("POST", "/v1/txs/"+sent[0].Hex()+"/cancel", nil, &msg); code != http.StatusBadRequest || !strings.Contains(msg["error"], "already included") {
		t.Fatalf("cancel an included transaction: HTTP %d %v", code, msg)
	}

	var found bool
	for _, r := range e.auditRecords() {
		found = found || r.Method == service.MethodTxCancelled && r.TxHash == c.Hash && strings.Contains(string(r.Call), stale.Hash().Hex())
	}
	if !found {
		t.Fatal("no agentkeys_txCancelled record")
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestRelayedSignatureIsFollowed: an eth_signTransaction result the agent
// relays itself is seen at the node and followed to included.
func TestRelayedSignatureIsFollowed(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	g := e.grant(map[string]any{"agent": "bot", "profile": "full-access", "daily_limit": []string{"1ETH"}})
	agent := e.agent(token(t, g))
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{To: &stranger, Value: wei(0.001)}); err != nil {
		t.Fatal(err)
	}
	hash := decodeTx(t, raw).Hash()
	var v service.TxInfo
	if e.admin("GET", "/v1/txs/"+hash.Hex(), nil, &v); v.State != store.TxSigned || v.Send {
		t.Fatalf("eth_signTransaction result: %+v; want signed, not sent by the daemon", v)
	}
	if err := agent.CallContext(ctx, &hash, "eth_sendRawTransaction", raw); err != nil {
		t.Fatal(err)
	}
	r := e.receipt(hash)
	e.clock.Advance(time.Hour) // long past stuck-after: it reached the node, so nothing is cancelled
	rep, err := e.sb.Service.Sweep(ctx)
	if err != nil || !slices.Equal(rep.Included, []string{hash.Hex()}) || len(rep.CancelSent) != 0 {
		t.Fatalf("sweep = %+v, %v", rep, err)
	}
	if e.admin("GET", "/v1/txs/"+hash.Hex(), nil, &v); v.State != store.TxIncluded || v.Block != r.BlockNumber.Uint64() {
		t.Fatalf("relayed transaction: %+v", v)
	}
}
