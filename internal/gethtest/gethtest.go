// Package gethtest starts a real go-ethereum node (`geth --dev`) for tests:
// on loopback, on free ports, with a temporary data directory, stopped when
// the test ends. Tests of the serve path use it to show that agentkeys
// works against a node that is not its own in-process chain. Only tests
// import it.
//
// The binary is found through $AGENTKEYS_GETH, then PATH, then
// $(go env GOPATH)/bin/geth. Without one a test is skipped on a laptop,
// but fails when CI=true, because in CI every dependency must be present
// (.ci/run installs geth v1.17.10).
package gethtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// EnvBinary names the environment variable that points at a geth binary.
const EnvBinary = "AGENTKEYS_GETH"

// Version is the go-ethereum release CI installs, the one go.mod uses.
const Version = "1.17.10"

// Node is a running `geth --dev`.
type Node struct {
	// URL is the HTTP JSON-RPC endpoint, like http://127.0.0.1:40123.
	URL string
	// ChainID is the dev chain's id (1337).
	ChainID uint64
	// Dev is the node's pre-funded, unlocked developer account.
	Dev common.Address

	rpc    *rpc.Client
	client *ethclient.Client
	log    *logTail
}

// Binary returns the path of a geth binary, or "" if none is found.
func Binary() string {
	if p := os.Getenv(EnvBinary); p != "" {
		return p
	}
	if p, err := exec.LookPath("geth"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "geth")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Require returns the geth binary, or skips the test (fails it when
// CI=true) if there is none.
func Require(t testing.TB) string {
	t.Helper()
	p := Binary()
	if p != "" {
		return p
	}
	msg := fmt.Sprintf("no geth binary: set %s, put geth on PATH, or go install github.com/ethereum/go-ethereum/cmd/geth@v%s", EnvBinary, Version)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// endpointLine is geth's log line naming the bound HTTP address; --http.port
// 0 makes the kernel pick the port, so the log is where we learn it.
var endpointLine = regexp.MustCompile(`HTTP server started\s+endpoint=(\S+)`)

// Start runs `geth --dev` (blocks mined as transactions arrive) on
// loopback with a temporary data directory, and stops it in t.Cleanup.
// extraArgs are appended to geth's command line.
func Start(t testing.TB, extraArgs ...string) *Node {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	args := []string{
		"--dev", "--dev.period", "0",
		"--datadir", dir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", "0",
		"--http.api", "eth,net,web3,debug,txpool",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", "0",
		"--port", "0", "--nodiscover", "--maxpeers", "0",
		"--ipcdisable",
		"--verbosity", "3",
	}
	args = append(args, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	lt := &logTail{found: make(chan string, 1)}
	exited := make(chan error, 1)
	go func() {
		lt.read(stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { stop(t, cmd, exited, lt) })

	var endpoint string
	select {
	case endpoint = <-lt.found:
	case err := <-exited:
		exited <- err // for stop
		t.Fatalf("geth exited before serving HTTP (%v):\n%s", err, lt.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("geth did not report its HTTP endpoint:\n%s", lt.String())
	}
	n := &Node{URL: "http://" + endpoint, log: lt}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n.rpc, err = rpc.DialContext(ctx, n.URL); err != nil {
		t.Fatalf("dial geth at %s: %v", n.URL, err)
	}
	t.Cleanup(n.rpc.Close)
	n.client = ethclient.NewClient(n.rpc)
	id, err := n.client.ChainID(ctx)
	if err != nil {
		t.Fatalf("geth chain id: %v\n%s", err, lt.String())
	}
	n.ChainID = id.Uint64()
	var accounts []common.Address
	if err := n.rpc.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		t.Fatalf("geth dev account: %v %v\n%s", accounts, err, lt.String())
	}
	n.Dev = accounts[0]
	return n
}

// stop interrupts geth, which then shuts down cleanly, and kills it if it
// does not exit in time.
func stop(t testing.TB, cmd *exec.Cmd, exited chan error, lt *logTail) {
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Logf("geth did not stop on SIGINT; killed it:\n%s", lt.String())
	}
}

// Client is a client of the node, closed when the test ends.
func (n *Node) Client() *ethclient.Client { return n.client }

// RPC is the raw JSON-RPC client of the node.
func (n *Node) RPC() *rpc.Client { return n.rpc }

// Log returns the last lines geth wrote, for failure messages.
func (n *Node) Log() string { return n.log.String() }

// Fund sends wei from the dev account to each address (eth_sendTransaction
// on the node's unlocked account) and waits until they are mined.
func (n *Node) Fund(t testing.TB, wei *big.Int, to ...common.Address) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, a := range to {
		h, err := n.SendFromDev(ctx, a, wei, nil)
		if err != nil {
			t.Fatalf("fund %s: %v", a.Hex(), err)
		}
		if _, err := n.Wait(ctx, h); err != nil {
			t.Fatalf("fund %s: %v", a.Hex(), err)
		}
	}
}

// SendFromDev sends a transaction from the dev account and returns its
// hash.
func (n *Node) SendFromDev(ctx context.Context, to common.Address, wei *big.Int, data []byte) (common.Hash, error) {
	arg := map[string]any{"from": n.Dev, "to": to, "value": (*hexutil.Big)(wei)}
	if data != nil {
		arg["data"] = hexutil.Bytes(data)
	}
	var h common.Hash
	err := n.rpc.CallContext(ctx, &h, "eth_sendTransaction", arg)
	return h, err
}

// Wait polls for a transaction's receipt and fails on a reverted one.
func (n *Node) Wait(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	for {
		r, err := n.client.TransactionReceipt(ctx, h)
		if err == nil {
			// Receipts are indexed a moment before their block is the
			// head; wait for the head so reads at "latest" see the effects.
			head, herr := n.client.HeaderByNumber(ctx, nil)
			if herr != nil || head.Number.Cmp(r.BlockNumber) < 0 {
				err = ethereum.NotFound
			}
		}
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return r, fmt.Errorf("transaction %s reverted", h.Hex())
			}
			return r, nil
		}
		// geth answers "transaction indexing is in progress" until its
		// indexer has caught up with the head, a moment after start.
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s: %w", h.Hex(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logTail keeps the last lines of geth's log and reports the HTTP
// endpoint once.
type logTail struct {
	mu    sync.Mutex
	lines []string
	found chan string
}

const keepLines = 60

func (l *logTail) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		l.lines = append(l.lines, line)
		if len(l.lines) > keepLines {
			l.lines = l.lines[len(l.lines)-keepLines:]
		}
		l.mu.Unlock()
		if !sent {
			if m := endpointLine.FindStringSubmatch(line); m != nil {
				l.found <- m[1]
				sent = true
			}
		}
	}
	// Keep draining so geth never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
