package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestProtocolErrors: every malformed, unauthenticated or unsupported
// request gets the EIP-1193/EIP-1474 code a wallet client expects, with a
// message naming what is wrong.
func TestProtocolErrors(t *testing.T) {
	e := start(t)
	info := e.sb.Info
	weth := common.HexToAddress(info.WETH).Hex()
	g := e.grant(map[string]any{"agent": "dev", "profile": "full-access", "daily_limit": []string{"0.01ETH"}})
	tok := token(t, g)
	keyID := g["key_id"].(string)
	wrongSecret := "ak_" + keyID + "_" + strings.Repeat("0", 64)

	req := func(method string, params string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":%q,"params":%s}`, method, params)
	}
	tests := []struct {
		name  string
		token string
		body  string
		code  int
		want  string
	}{
		{"unsupported method", tok, req("eth_coinbase", `[]`), 4200, "method eth_coinbase is not supported"},
		{"unsupported method without credential: the credential is checked first", "", req("debug_traceTransaction", `["0x00"]`), 4100, "missing credential"},
		{"value not hex", tok, req("eth_sendTransaction", `[{"to":"`+weth+`","value":"12"}]`), -32602, "value"},
		{"gas not hex", tok, req("eth_signTransaction", `[{"to":"`+weth+`","gas":21000}]`), -32602, "gas"},
		{"nonce given by the agent", tok, req("eth_signTransaction", `[{"to":"`+weth+`","nonce":"0x1"}]`), -32602, "nonce: agentkeys allocates nonces"},
		{"from another account", tok, req("eth_signTransaction", `[{"from":"`+stranger.Hex()+`","to":"`+weth+`"}]`), -32602, "from: this key acts as " + info.Owner},
		{"no transaction object", tok, req("eth_signTransaction", `[]`), -32602, "params"},
		{"data and input differ", tok, req("eth_signTransaction", `[{"to":"`+weth+`","data":"0x01","input":"0x02"}]`), -32602, "data and input differ"},
		{"typed data as another account", tok, req("eth_signTypedData_v4", `["`+stranger.Hex()+`", {}]`), -32602, "this key signs only as"},
		{"contract creation", tok, req("eth_signTransaction", `[{"data":"0x6000"}]`), 4001, "contract creation is not allowed"},
		{"7702 authorization list", tok, req("eth_signTransaction", `[{"to":"`+weth+`","authorizationList":[{}]}]`), 4001, "EIP-7702 authorizations are always refused"},
		{"unknown credential", "ak_aaaaaaaaaaaa_" + strings.Repeat("0", 64), req("eth_chainId", `[]`), 4100, "unknown credential"},
		{"known id, wrong secret", wrongSecret, req("eth_chainId", `[]`), 4100, "unknown credential"},
		{"not a credential", "hello", req("eth_accounts", `[]`), 4100, "unknown credential"},
		{"admin credential on /rpc", e.sb.AdminToken, req("eth_accounts", `[]`), 4100, "unknown credential"},
		{"missing Authorization", "", req("eth_chainId", `[]`), 4100, "missing credential"},
		{"not JSON", tok, `{"jsonrpc":"2.0",`, -32700, "parse error"},
		{"not JSON at all", tok, `hello`, -32700, "parse error"},
		{"no jsonrpc version", tok, `{"id":1,"method":"eth_chainId"}`, -32600, "invalid request"},
		{"empty batch", tok, `[]`, -32600, "a batch holds 1 to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.post(tt.token, tt.body)
			if status != http.StatusOK {
				t.Fatalf("HTTP %d: %s", status, body)
			}
			var r rpcReply
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("reply is not one JSON-RPC response: %v\n%s", err, body)
			}
			wantError(t, r, tt.code, tt.want)
			if r.JSONRPC != "2.0" {
				t.Errorf("jsonrpc %q", r.JSONRPC)
			}
			// The id is echoed when the request had one and was JSON.
			wantID := "null"
			var sent struct{ ID json.RawMessage }
			if json.Unmarshal([]byte(tt.body), &sent) == nil && len(sent.ID) > 0 {
				wantID = string(sent.ID)
			}
			if string(r.ID) != wantID {
				t.Errorf("id %s, want %s", r.ID, wantID)
			}
			if tt.code == 4100 && strings.Contains(r.Error.Message, keyID) {
				t.Errorf("4100 names the key id: %q", r.Error.Message)
			}
		})
	}

	t.Run("batch", func(t *testing.T) {
		status, body := e.post(tok, `[`+
			`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},`+
			`{"jsonrpc":"2.0","id":"two","method":"eth_accounts","params":[]},`+
			`{"jsonrpc":"2.0","id":3,"method":"eth_mining","params":[]}]`)
		if status != http.StatusOK {
			t.Fatalf("HTTP %d: %s", status, body)
		}
		var rs []rpcReply
		if err := json.Unmarshal(body, &rs); err != nil || len(rs) != 3 {
			t.Fatalf("want three responses: %v\n%s", err, body)
		}
		for i, id := range []string{`1`, `"two"`, `3`} {
			if string(rs[i].ID) != id {
				t.Errorf("response %d has id %s, want %s", i, rs[i].ID, id)
			}
		}
		var chainID string
		wantResult(t, rs[0], &chainID)
		if want := fmt.Sprintf("0x%x", info.ChainID); chainID != want {
			t.Errorf("eth_chainId = %s, want %s", chainID, want)
		}
		var accounts []common.Address
		wantResult(t, rs[1], &accounts)
		if len(accounts) != 1 || accounts[0].Hex() != info.Owner {
			t.Errorf("eth_accounts = %v, want [%s]", accounts, info.Owner)
		}
		wantError(t, rs[2], 4200, "eth_mining")
	})

	t.Run("GET /rpc", func(t *testing.T) {
		status, body := e.do(http.MethodGet, tok, "")
		if status != http.StatusMethodNotAllowed {
			t.Fatalf("GET /rpc: HTTP %d %s, want 405", status, body)
		}
	})

	t.Run("body over 1 MiB", func(t *testing.T) {
		status, body := e.post(tok, req("eth_chainId", `["`+strings.Repeat("a", 1<<20)+`"]`))
		var r rpcReply
		if status != http.StatusOK || json.Unmarshal(body, &r) != nil {
			t.Fatalf("HTTP %d %s", status, body)
		}
		wantError(t, r, -32600, "over")
	})

	if rep := e.verifyAudit(); !rep.OK() {
		t.Fatalf("audit: %s", rep)
	}
}
