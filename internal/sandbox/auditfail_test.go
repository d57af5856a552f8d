package sandbox

import (
	"context"
	"database/sql"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	_ "modernc.org/sqlite"
)

// TestNoSignatureWithoutAuditRecord makes the audit write fail for real
// (a trigger in the SQLite file refuses new audit records) and checks that
// the request fails, nothing is signed or broadcast, and nothing is
// reserved or counted.
func TestNoSignatureWithoutAuditRecord(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	g := e.grant(map[string]any{"agent": "bot", "profile": "full-access", "daily_limit": []string{"1ETH"}})
	agent := e.agent(g["token"].(string))
	ctx := context.Background()
	owner := common.HexToAddress(info.Owner)
	nonceBefore, err := e.sb.Chain.Client().PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", filepath.Join(info.Home, "agentkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit device full'); END`); err != nil {
		t.Fatal(err)
	}

	for _, method := range []string{"eth_sendTransaction", "eth_signTransaction"} {
		var out hexutil.Bytes
		err := agent.CallContext(ctx, &out, method, txObj{To: &stranger, Value: wei(0.01)})
		code, _, msg := rpcCode(err)
		if code != -32603 || len(out) != 0 {
			t.Fatalf("%s with a failing audit log: code %d %q, result %x", method, code, msg, out)
		}
	}
	if _, err := db.Exec(`DROP TRIGGER refuse_audit`); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.sb.Chain.Client().PendingNonceAt(ctx, owner); n != nonceBefore {
		t.Fatalf("a transaction reached the node: pending nonce %d -> %d", nonceBefore, n)
	}
	var perms struct {
		Budget []struct {
			RawSpent string `json:"raw_spent"`
		} `json:"budget"`
	}
	if err := agent.CallContext(ctx, &perms, "agentkeys_getPermissions"); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, e.logs.String())
	}
	if perms.Budget[0].RawSpent != "0" {
		t.Fatalf("refused requests were counted as spent: %+v", perms.Budget)
	}
	// With the audit log healthy again the same request is signed, with
	// the nonce the failed attempts did not consume.
	var raw hexutil.Bytes
	if err := agent.CallContext(ctx, &raw, "eth_signTransaction", txObj{To: &stranger, Value: wei(0.01)}); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, e.logs.String())
	}
	tx := decodeTx(t, raw)
	if tx.Nonce() != nonceBefore || tx.Value().Cmp(big.NewInt(1e16)) != 0 {
		t.Fatalf("signed nonce %d value %s, want nonce %d", tx.Nonce(), tx.Value(), nonceBefore)
	}
	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}

func decodeTx(t *testing.T, raw []byte) *types.Transaction {
	t.Helper()
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		t.Fatalf("decode signed transaction: %v", err)
	}
	return tx
}

// TestRevertingCallIsRecordedAsError: a call the policy allows but the
// chain would revert is not signed; the agent gets the node's words and
// the audit log an "error" decision.
func TestRevertingCallIsRecordedAsError(t *testing.T) {
	e := start(t)
	router := common.HexToAddress(e.sb.Info.Router)
	g := e.grant(map[string]any{"agent": "bot", "profile": "full-access", "daily_limit": []string{"1ETH"}})
	var hash common.Hash
	err := e.agent(g["token"].(string)).CallContext(context.Background(), &hash, "eth_sendTransaction", txObj{To: &router, Value: wei(0.01)})
	code, _, msg := rpcCode(err)
	if code == 0 || code == 4001 || code == -32603 || !strings.Contains(msg, "execution reverted") {
		t.Fatalf("got %d %q, want the node's revert", code, msg)
	}
	head, _ := e.sb.Home.Store.AuditHead(context.Background())
	recs, _ := e.sb.Home.Store.AuditRecords(context.Background(), head.Seq-1, 1)
	if len(recs) != 1 || recs[0].Decision != "error" || recs[0].TxHash != "" || !strings.Contains(strings.Join(recs[0].Reasons, " "), "execution reverted") {
		t.Fatalf("last audit record = %+v", recs)
	}
}
