package daemon_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/daemon"
	"github.com/agentkeys/agentkeys/internal/faultnode"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/upstream"
)

// TestStartNodeFaults: Start fails against every kind of broken node,
// over HTTP and WebSocket, within the configured deadlines (a node that
// never answers comes to a TimeoutError), and no error quotes the URL's
// path.
func TestStartNodeFaults(t *testing.T) {
	short := upstream.Timeouts{Dial: 300 * time.Millisecond, Read: 300 * time.Millisecond}
	for _, tc := range []struct {
		name    string
		fault   faultnode.Fault
		refuse  bool
		timeout bool
	}{
		{name: "refuses", refuse: true},
		{name: "never answers", fault: faultnode.Mute, timeout: true},
		{name: "answers slowly", fault: faultnode.Slow, timeout: true},
		{name: "answers garbage", fault: faultnode.Garbage},
		{name: "resets mid-body", fault: faultnode.Reset},
	} {
		for _, scheme := range []string{"http", "ws"} {
			t.Run(scheme+" "+tc.name, func(t *testing.T) {
				h := newHome(t)
				addr := faultnode.Refusing(t)
				if !tc.refuse {
					srv := faultnode.Start(t, tc.fault, nil)
					srv.SetDelay(time.Hour)
					addr = srv.Addr()
				}
				_, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: scheme + "://" + addr + "/v3/s3cr3tapikey", Listen: "127.0.0.1:0", Timeouts: short})
				if err == nil {
					t.Fatal("Start succeeded against a broken node")
				}
				if strings.Contains(err.Error(), "s3cr3tapikey") || !strings.Contains(err.Error(), addr) {
					t.Errorf("error %q: want the host and not the key", err)
				}
				if tc.timeout != strings.Contains(err.Error(), "did not answer") {
					t.Errorf("error %q: want a timeout %v", err, tc.timeout)
				}
			})
		}
	}
}

// TestStartHonoursCancel: while a WebSocket node holds the handshake,
// cancelling Start's context (serve's SIGTERM) ends it, however long the
// dial deadline.
func TestStartHonoursCancel(t *testing.T) {
	h := newHome(t)
	srv := faultnode.Start(t, faultnode.Mute, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := daemon.Start(ctx, daemon.Config{Home: h, UpstreamURL: srv.URL("ws", "/v3/s3cr3tapikey"), Listen: "127.0.0.1:0",
			Timeouts: upstream.Timeouts{Dial: time.Hour}})
		done <- err
	}()
	for srv.Seen("") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), context.Canceled.Error()) {
			t.Fatalf("Start: %v, want cancelled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Start ignored the cancellation")
	}
}

// TestAgentReadNodeMute: an agent's read passed to a node that stops
// answering ends at the read deadline with a -32000 error saying so, not
// the node's URL; the daemon goes on answering what needs no node.
func TestAgentReadNodeMute(t *testing.T) {
	h := newHome(t)
	chain := fundedChain(t, common.HexToAddress(h.Config.WalletAddress))
	srv := faultnode.Start(t, faultnode.Pass, faultnode.Proxy(t, chain.URL()))
	d, err := daemon.Start(t.Context(), daemon.Config{Home: h, UpstreamURL: srv.URL("http", "/v3/s3cr3tapikey"), Listen: "127.0.0.1:0",
		Timeouts: upstream.Timeouts{Read: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	granted, err := d.Service.GrantFrom(t.Context(), service.GrantSpec{Agent: "reader", Profile: "read-only"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, params string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", d.URL()+"/rpc", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`))
		req.Header.Set("Authorization", "Bearer "+granted.Token.Reveal())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	balance := `["` + h.Config.WalletAddress + `","latest"]`
	if got := call("eth_getBalance", balance); !strings.Contains(got, `"result":"0x`) {
		t.Fatalf("balance through a healthy node: %s", got)
	}
	srv.SetFor("eth_getBalance", faultnode.Mute)
	got := call("eth_getBalance", balance)
	// The agent learns only that the node is unavailable; the deadline
	// that was missed is the owner's to read in the log.
	if !strings.Contains(got, `"code":-32000`) || !strings.Contains(got, "upstream node unavailable") || strings.Contains(got, "s3cr3t") {
		t.Fatalf("balance through a mute node: %s", got)
	}
	if got := call("eth_chainId", "[]"); !strings.Contains(got, `"result":"0x7a69"`) {
		t.Fatalf("chain id after the timeout: %s", got)
	}
}
