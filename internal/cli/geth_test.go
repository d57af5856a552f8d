package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/gethtest"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestMode7702OnGethDev walks a new owner's 7702 path on a real go-ethereum
// node that is not the sandbox: serve in front of `geth --dev`, deploy
// AgentKeyDelegate (CREATE2: geth's dev genesis has the deployment proxy),
// delegate the owner, grant a 7702 key from a policy file, and have the
// agent's allowed payment mined through the session key's execute on the
// owner's account, while a call outside the grant is refused.
func TestMode7702OnGethDev(t *testing.T) {
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, cred, owner := testHome(t)
	node.Fund(t, new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18)), owner)

	s := runServe(t, dir, node.URL)
	if !strings.Contains(s.out.String(), fmt.Sprintf("serving chain %d", node.ChainID)) {
		t.Fatalf("serve output: %s", s.out.String())
	}
	has, err := delegation.HasFactory(ctx, node.Client())
	if err != nil {
		t.Fatal(err)
	}
	res := s.deploy(t, cred, dir)
	wantMethod := delegation.MethodCreate
	if has {
		wantMethod = delegation.MethodCreate2
	}
	if res.Method != wantMethod || !res.Recorded || res.ChainID != node.ChainID {
		t.Fatalf("deploy on geth = %+v, want method %s (proxy present: %v)", res, wantMethod, has)
	}
	checkDeployed(t, node.Client(), res.Address)

	out, errOut, code := s.cli(t, cred, dir, "wallet", "upgrade", "-o", "json")
	var st service.WalletStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Delegated || !st.IsAgentKeys || st.Delegate != res.Address {
		t.Fatalf("upgrade on geth: exit %d, %s %s\nserve: %s", code, out, errOut, s.errOut.String())
	}

	payee := common.HexToAddress("0x00000000000000000000000000000000000beef1")
	stranger := common.HexToAddress("0x00000000000000000000000000000000000beef2")
	policyFile := filepath.Join(t.TempDir(), "pay.yaml")
	pol := fmt.Sprintf(`name: pay-one-address
chains: [%d]
valid_for: 1h
limits:
  - asset: native
    per_tx: 0.01
    per_period: 0.1
    period: 24h
allow:
  - contract: "%s"
    functions:
      - sig: "receive"
`, node.ChainID, payee.Hex())
	if err := os.WriteFile(policyFile, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = s.cli(t, cred, dir, "key", "grant", "--mode", "7702", "--agent", "payer", "--policy", policyFile, "-o", "json")
	var g admin.GrantView
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || g.Token == "" || g.Session == "" {
		t.Fatalf("7702 grant on geth: exit %d, %s %s\nserve: %s", code, out, errOut, s.errOut.String())
	}
	session := common.HexToAddress(g.Session)

	agent, err := rpc.DialOptions(ctx, s.agentURL+"/rpc", rpc.WithHeader("Authorization", "Bearer "+g.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	pay := big.NewInt(1e15) // 0.001 ETH
	var hash common.Hash
	if err := agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": payee, "value": (*hexutil.Big)(pay)}); err != nil {
		t.Fatalf("allowed payment: %v\nserve: %s", err, s.errOut.String())
	}
	rcpt, err := node.Wait(ctx, hash)
	if err != nil {
		t.Fatalf("allowed payment not mined: %v", err)
	}
	tx, _, err := node.Client().TransactionByHash(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil || from != session || tx.To() == nil || *tx.To() != owner || rcpt.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("payment tx from %s to %v (status %d), want the session %s calling execute on the owner %s", from.Hex(), tx.To(), rcpt.Status, session.Hex(), owner.Hex())
	}
	if bal, _ := node.Client().BalanceAt(ctx, payee, nil); bal.Cmp(pay) != 0 {
		t.Fatalf("payee balance %s, want %s", bal, pay)
	}

	err = agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": stranger, "value": (*hexutil.Big)(pay)})
	var rerr rpc.Error
	if !errors.As(err, &rerr) || rerr.ErrorCode() != 4001 {
		t.Fatalf("payment to a stranger: %v, want a 4001 refusal", err)
	}
	if bal, _ := node.Client().BalanceAt(ctx, stranger, nil); bal.Sign() != 0 {
		t.Fatalf("the stranger was paid %s", bal)
	}
}
