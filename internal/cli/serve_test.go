package cli

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/devchain"
)

// TestServeAgainstANode runs agentkeys serve against a separately started
// node, grants a key through the admin listener and uses it on /rpc.
func TestServeAgainstANode(t *testing.T) {
	dir, adminCred, owner := testHome(t)
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	srv := runServe(t, dir, chain.URL())
	agentURL, adminURL := srv.agentURL, srv.adminURL
	if agentURL == adminURL {
		t.Fatalf("admin API shares the agents' listener: %s", agentURL)
	}
	post := func(url, token, body string) string {
		_, out := httpDo(t, http.DefaultClient, "POST", url, token, body, nil)
		return out
	}
	grant := post(adminURL+"/v1/grants", adminCred.Reveal(), `{"agent":"bot","profile":"read-only"}`)
	tok := regexp.MustCompile(`"token": "(ak_[^"]+)"`).FindStringSubmatch(grant)
	if tok == nil {
		t.Fatalf("grant: %s", grant)
	}
	if got := post(agentURL+"/v1/grants", adminCred.Reveal(), `{}`); !strings.Contains(got, "404 page not found") {
		t.Fatalf("admin API reachable on the agents' listener: %s", got)
	}
	resp := post(agentURL+"/rpc", tok[1], `{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}`)
	if !strings.Contains(resp, `"result":"0x7a69"`) {
		t.Fatalf("eth_chainId: %s", resp)
	}
	resp = post(agentURL+"/rpc", tok[1], `{"jsonrpc":"2.0","id":8,"method":"eth_sendTransaction","params":[{"to":"0x9999999999999999999999999999999999999999","value":"0x1"}]}`)
	if !strings.Contains(resp, `"code":4001`) || !strings.Contains(resp, "profile read-only never signs transactions") {
		t.Fatalf("read-only send: %s", resp)
	}
	srv.stop()
	if strings.Contains(srv.errOut.String(), tok[1]) || strings.Contains(srv.errOut.String(), adminCred.Reveal()) {
		t.Fatal("serve logged a credential")
	}
}
