package sandbox

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/audit"
)

var milliEther = big.NewInt(1e15) // 0.001 ETH

// depositPolicy lets a key send plain ETH to WETH (a deposit) up to capEth
// per day. Fees have a budget of their own, so the cap counts value alone.
func depositPolicy(weth common.Address, capEth string) string {
	return policyText("weth-deposits",
		"limits: [{asset: native, per_period: "+capEth+", period: 24h}, {asset: fees, per_period: 1, period: 24h}]",
		"allow: [{contract: \""+weth.Hex()+"\", functions: [receive]}]")
}

// fire sends n identical requests at once, from several HTTP clients, and
// returns each request's result and error in order.
func fire[T any](e *env, tok string, n int, method string, param any) ([]T, []error) {
	clients := make([]*gethrpc.Client, 16)
	for i := range clients {
		clients[i] = e.agent(tok)
	}
	results, errs := make([]T, n), make([]error, n)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-ready
			errs[i] = clients[i%len(clients)].CallContext(context.Background(), &results[i], method, param)
		})
	}
	close(ready)
	wg.Wait()
	return results, errs
}

// wantContiguous checks that nonces are distinct and run from first
// without gaps.
func wantContiguous(t *testing.T, nonces []uint64, first uint64) {
	t.Helper()
	sorted := slices.Clone(nonces)
	slices.Sort(sorted)
	for i, n := range sorted {
		if n != first+uint64(i) {
			t.Fatalf("nonces %v: want each of %d..%d exactly once", sorted, first, first+uint64(len(sorted))-1)
		}
	}
}

// TestConcurrentSignNeverExceedsCap: 200 concurrent eth_signTransaction
// requests of 0.001 ETH against a 0.01 ETH daily cap sign exactly ten
// transactions, with ten distinct contiguous nonces, and record exactly
// one audit record each (Invariants 2, 3 and 4).
func TestConcurrentSignNeverExceedsCap(t *testing.T) {
	const n = 200
	e := start(t)
	info := e.sb.Info
	owner, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.WETH)
	limit := new(big.Int).Mul(milliEther, big.NewInt(10)) // 0.01 ETH
	g := e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "0.01")})
	tok, keyID := token(t, g), g["key_id"].(string)
	pending, err := e.sb.Chain.Client().PendingNonceAt(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}

	raws, errs := fire[hexutil.Bytes](e, tok, n, "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)})

	chainID := new(big.Int).SetUint64(info.ChainID)
	signer := types.LatestSignerForChainID(chainID)
	var (
		nonces  []uint64
		sum     = new(big.Int)
		signed  = map[string]bool{}
		refused int
	)
	for i := range n {
		if errs[i] != nil {
			code, reasons, msg := rpcCode(errs[i])
			if code != 4001 || len(reasons) == 0 || !strings.Contains(strings.Join(reasons, "\n"), "over the limit of 0.01 ETH") {
				t.Errorf("request %d: error %d %q reasons %q, want 4001 over the limit of 0.01 ETH", i, code, msg, reasons)
			}
			refused++
			continue
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raws[i]); err != nil {
			t.Fatalf("request %d: result %x is not a signed transaction: %v", i, raws[i], err)
		}
		from, err := types.Sender(signer, &tx)
		switch {
		case err != nil || from != owner:
			t.Errorf("request %d: sender %s (%v), want %s", i, from.Hex(), err, owner.Hex())
		case tx.ChainId().Cmp(chainID) != 0 || tx.To() == nil || *tx.To() != weth || tx.Value().Cmp(milliEther) != 0:
			t.Errorf("request %d: signed chain %s to %v value %s, want chain %s to %s value %s", i, tx.ChainId(), tx.To(), tx.Value(), chainID, weth.Hex(), milliEther)
		}
		nonces = append(nonces, tx.Nonce())
		sum.Add(sum, tx.Value())
		signed[tx.Hash().Hex()] = true
	}
	if want := int(new(big.Int).Div(limit, milliEther).Int64()); len(nonces) != want || refused != n-want {
		t.Fatalf("%d signed and %d refused of %d, want exactly %d signed (cap %s / value %s)", len(nonces), refused, n, want, limit, milliEther)
	}
	if sum.Cmp(limit) > 0 {
		t.Fatalf("signed %s wei in total, over the cap of %s", sum, limit)
	}
	wantContiguous(t, nonces, pending)

	// One audit record per request, each allowed one naming its signed
	// transaction, and the chain intact.
	var allowed, denied int
	for _, r := range e.auditRecords() {
		if r.KeyID != keyID {
			continue
		}
		switch r.Decision {
		case audit.DecisionAllow:
			allowed++
			if !signed[r.TxHash] {
				t.Errorf("audit record %d allows tx %q, which no client received", r.Seq, r.TxHash)
			}
			delete(signed, r.TxHash)
		case audit.DecisionDeny:
			denied++
		default:
			t.Errorf("audit record %d: decision %s %q", r.Seq, r.Decision, r.Reasons)
		}
	}
	if allowed+denied != n || allowed != len(nonces) || len(signed) != 0 {
		t.Errorf("audit holds %d allow and %d deny records of the key for %d requests (%d signed); signed but unrecorded: %v",
			allowed, denied, n, len(nonces), signed)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}

	var perms struct {
		Budget []struct{ Asset, Spent, Pending, Remaining string } `json:"budget"`
	}
	wantResult(t, e.call(tok, "agentkeys_getPermissions"), &perms)
	// Signed, never sent: pending, for as long as they may still land.
	if len(perms.Budget) != 2 || perms.Budget[0].Spent != "0" || perms.Budget[0].Pending != "0.01" || perms.Budget[0].Remaining != "0" {
		t.Errorf("budget after the burst = %+v, want 0.01 pending and 0 remaining", perms.Budget)
	}
}

// TestConcurrentSendMinesDistinctNonces: concurrent eth_sendTransaction
// requests broadcast their transactions as soon as each is recorded, in
// whatever order; all allowed ones are mined, with distinct nonces, and
// the cap holds on chain too.
func TestConcurrentSendMinesDistinctNonces(t *testing.T) {
	const (
		n       = 45
		allowed = 30 // 0.03 ETH cap / 0.001 ETH
	)
	e := start(t)
	info := e.sb.Info
	owner, weth := common.HexToAddress(info.Owner), common.HexToAddress(info.WETH)
	g := e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "0.03")})
	ctx := context.Background()
	node := e.sb.Chain.Client()
	pending, err := node.PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	wethBefore := e.tokenBalance(weth, owner)

	hashes, errs := fire[common.Hash](e, token(t, g), n, "eth_sendTransaction", txObj{From: &owner, To: &weth, Value: (*hexutil.Big)(milliEther)})

	var nonces []uint64
	seen := map[common.Hash]bool{}
	for i := range n {
		if errs[i] != nil {
			if code, reasons, msg := rpcCode(errs[i]); code != 4001 || !strings.Contains(strings.Join(reasons, "\n"), "over the limit of 0.03 ETH") {
				t.Errorf("request %d: error %d %q, want 4001 over the limit of 0.03 ETH", i, code, msg)
			}
			continue
		}
		if seen[hashes[i]] {
			t.Fatalf("hash %s returned twice", hashes[i].Hex())
		}
		seen[hashes[i]] = true
		rcpt := e.receipt(hashes[i])
		if rcpt.Status != types.ReceiptStatusSuccessful {
			t.Errorf("tx %s reverted", hashes[i].Hex())
		}
		tx, _, err := node.TransactionByHash(ctx, hashes[i])
		if err != nil {
			t.Fatalf("tx %s: %v", hashes[i].Hex(), err)
		}
		nonces = append(nonces, tx.Nonce())
	}
	if len(nonces) != allowed {
		t.Fatalf("%d of %d sends went through, want exactly %d", len(nonces), n, allowed)
	}
	wantContiguous(t, nonces, pending)
	if got, err := node.NonceAt(ctx, owner, nil); err != nil || got != pending+allowed {
		t.Errorf("owner's mined nonce %d (%v), want %d", got, err, pending+allowed)
	}
	want := new(big.Int).Add(wethBefore, new(big.Int).Mul(milliEther, big.NewInt(allowed)))
	if got := e.tokenBalance(weth, owner); got.Cmp(want) != 0 {
		t.Errorf("owner's WETH %s, want %s", got, want)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

// TestConcurrentKeysShareNonces: keys acting for the same account share
// its nonce counter, so concurrent requests on different keys never sign
// two transactions with one nonce, and each key keeps its own cap.
func TestConcurrentKeysShareNonces(t *testing.T) {
	const (
		keys   = 3
		perKey = 70
		capped = 5 // 0.005 ETH per key / 0.001 ETH
	)
	e := start(t)
	owner, weth := common.HexToAddress(e.sb.Info.Owner), common.HexToAddress(e.sb.Info.WETH)
	pending, err := e.sb.Chain.Client().PendingNonceAt(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]string, keys)
	for k := range keys {
		toks[k] = token(t, e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "0.005")}))
	}
	raws := make([][]hexutil.Bytes, keys)
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			raws[k], _ = fire[hexutil.Bytes](e, toks[k], perKey, "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)})
		})
	}
	wg.Wait()
	var nonces []uint64
	for k := range keys {
		signed := 0
		for _, raw := range raws[k] {
			if len(raw) == 0 {
				continue
			}
			var tx types.Transaction
			if err := tx.UnmarshalBinary(raw); err != nil {
				t.Fatal(err)
			}
			nonces = append(nonces, tx.Nonce())
			signed++
		}
		if signed != capped {
			t.Errorf("key %d signed %d of %d, want %d", k, signed, perKey, capped)
		}
	}
	wantContiguous(t, nonces, pending)
	if rep := e.verifyAudit(); !rep.OK() || rep.Records < keys*perKey {
		t.Fatalf("audit: %s", rep)
	}
}

// TestRevokeDuringBurst: a revocation takes effect on the next request
// even under load: no request is allowed once the revocation is recorded,
// and every transaction a client received has its allow record before it
// (Invariant 6).
func TestRevokeDuringBurst(t *testing.T) {
	const n = 200
	e := start(t)
	weth := common.HexToAddress(e.sb.Info.WETH)
	g := e.grant(map[string]any{"agent": "payer", "policy": depositPolicy(weth, "1")})
	tok, keyID := token(t, g), g["key_id"].(string)
	clients := make([]*gethrpc.Client, 16)
	for i := range clients {
		clients[i] = e.agent(tok)
	}
	raws, errs := make([]hexutil.Bytes, n), make([]error, n)
	answered := make(chan struct{}, n)
	revoked := make(chan int, 1)
	go func() {
		for range 20 { // revoke once some requests were answered
			<-answered
		}
		revoked <- e.admin("POST", "/v1/grants/"+keyID+"/revoke", nil, nil)
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = clients[i%len(clients)].CallContext(context.Background(), &raws[i], "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)})
			answered <- struct{}{}
		})
	}
	wg.Wait()
	if code := <-revoked; code != 200 {
		t.Fatalf("revoke: HTTP %d", code)
	}

	signed := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			if code, _, msg := rpcCode(errs[i]); code != 4100 || !strings.Contains(msg, "credential revoked") {
				t.Errorf("request %d: error %d %q, want 4100 credential revoked", i, code, msg)
			}
			continue
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raws[i]); err != nil {
			t.Fatal(err)
		}
		signed[tx.Hash().Hex()] = true
	}
	t.Logf("%d of %d signed before the revocation", len(signed), n)
	var revokeSeq int64
	recs := e.auditRecords()
	for _, r := range recs {
		if r.Method == "agentkeys_revoke" {
			revokeSeq = r.Seq
		}
	}
	if revokeSeq == 0 {
		t.Fatal("no audit record of the revocation")
	}
	allowed := 0
	for _, r := range recs {
		if r.KeyID != keyID || r.Decision != audit.DecisionAllow {
			continue
		}
		allowed++
		if r.Seq > revokeSeq {
			t.Errorf("record %d allows %s after the revocation (record %d)", r.Seq, r.TxHash, revokeSeq)
		}
		if !signed[r.TxHash] {
			t.Errorf("record %d allows %s, which no client received", r.Seq, r.TxHash)
		}
	}
	if allowed != len(signed) {
		t.Errorf("%d allow records for %d signed transactions", allowed, len(signed))
	}
	var raw hexutil.Bytes
	err := e.agent(tok).CallContext(context.Background(), &raw, "eth_signTransaction", txObj{To: &weth, Value: (*hexutil.Big)(milliEther)})
	wantRefused(t, err, 4100, "credential revoked")
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}
