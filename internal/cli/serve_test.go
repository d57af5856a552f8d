package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeAgainstANode runs agentkeys serve against a separately started
// node, grants a key through the admin listener and uses it on /rpc.
func TestServeAgainstANode(t *testing.T) {
	const pass = "serve test passphrase"
	kdf, _ := secrets.NewKDFParams()
	kdf.N = 1 << 10
	dir := t.TempDir()
	h, adminCred, err := home.Init(context.Background(), dir, home.InitOptions{Passphrase: []byte(pass), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	owner := common.HexToAddress(h.Config.WalletAddress)
	h.Close()
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()

	t.Setenv("AGENTKEYS_PASSPHRASE", pass)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--home", dir, "--rpc-upstream", chain.URL(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
			IO{In: strings.NewReader(""), Out: out, Err: errOut})
	}()
	urls := regexp.MustCompile(`agents: (http://\S+)/rpc\n  admin:  (http://\S+)/v1/`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); m == nil; {
		if m = urls.FindStringSubmatch(out.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	agentURL, adminURL := m[1], m[2]
	if agentURL == adminURL {
		t.Fatalf("admin API shares the agents' listener: %s", agentURL)
	}
	post := func(url, token, body string) string {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
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
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(errOut.String(), tok[1]) || strings.Contains(errOut.String(), adminCred.Reveal()) {
		t.Fatal("serve logged a credential")
	}
}
