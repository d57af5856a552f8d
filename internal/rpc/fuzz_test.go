package rpc_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentkeys/agentkeys/internal/allocs"
	"github.com/agentkeys/agentkeys/internal/service"
)

// FuzzRPCBody posts arbitrary bodies to /rpc, with no credential, a
// read-only key's or a full-access key's, on a real home and dev chain.
// No body yields a 5xx or a panic (the connection would drop), a 200
// always carries JSON, and no body allocates beyond its bound.
func FuzzRPCBody(f *testing.F) {
	e := start(f)
	readOnly, _ := e.grant(service.GrantSpec{Agent: "reader", Profile: "read-only"})
	full, _ := e.grant(service.GrantSpec{Agent: "spender", Profile: "full-access", DailyLimit: []string{"1ETH"}})
	permit, err := os.ReadFile(filepath.Join("..", "..", "examples", "permit-to-stranger.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, body := range []string{
		request(1, "eth_chainId", "[]"),
		request(2, "eth_accounts", "[]"),
		request(3, "eth_getBalance", `["`+e.owner.Hex()+`","latest"]`),
		request(4, "eth_sendTransaction", `[{"to":"`+stranger.Hex()+`","value":"0x1"}]`),
		request(5, "eth_signTransaction", `[{"to":"`+stranger.Hex()+`","data":"0xa9059cbb","gas":"0x5208"}]`),
		request(6, "eth_signTypedData_v4", `["`+e.owner.Hex()+`",`+string(permit)+`]`),
		request(7, "personal_sign", `["0x68656c6c6f","`+e.owner.Hex()+`"]`),
		request(8, "wallet_sendCalls", `[{"version":"2.0.0","chainId":"0x7a69","from":"`+e.owner.Hex()+`","calls":[{"to":"`+stranger.Hex()+`","value":"0x1"}]}]`),
		request(9, "agentkeys_getPermissions", "[]"),
		request(10, "eth_sendRawTransaction", `["0x02"]`),
		`{"jsonrpc":"2.0","id":11,"method":"eth_getBalance","params":{"address":"0x0"}}`,
		`[` + request(12, "eth_chainId", "[]") + `,` + request(13, "eth_nope", "[]") + `]`,
		`{"jsonrpc":"2.0","method":"eth_chainId"}`,
		`[]`, `{}`, `null`, ``, `[1,2`, `{"jsonrpc":"2.0","id":{"x":1},"method":1}`,
	} {
		for key := range uint8(3) {
			f.Add([]byte(body), key)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, key uint8) {
		token := []string{"", readOnly, full}[key%3]
		allocs.Within(t, 64<<20+256*uint64(len(body)), func() {
			status, out := e.post(t, e.url, token, string(body))
			if status >= 500 {
				t.Fatalf("HTTP %d: %.300s", status, out)
			}
			if status == http.StatusOK && len(out) > 0 && !json.Valid(out) {
				t.Fatalf("HTTP 200 with a body that is not JSON: %.300s", out)
			}
		})
	})
}
