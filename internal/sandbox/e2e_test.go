package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

const testPassphrase = "sandbox test passphrase"

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// clock is the injected time of a sandbox under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	t     *testing.T
	sb    *Sandbox
	clock *clock
	logs  *syncBuffer
}

// syncBuffer collects the daemon's logs for the secret scan.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(t *testing.T) *env {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	c := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} // a Wednesday
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := Start(ctx, Config{Home: t.TempDir(), Passphrase: []byte(testPassphrase), KDF: &kdf, Now: c.Now,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return &env{t: t, sb: sb, clock: c, logs: logs}
}

// grant asks the admin API for a key.
func (e *env) grant(spec map[string]any) map[string]any {
	e.t.Helper()
	var out map[string]any
	if code := e.admin("POST", "/v1/grants", spec, &out); code != http.StatusCreated {
		e.t.Fatalf("grant: HTTP %d %v", code, out)
	}
	return out
}

func (e *env) admin(method, path string, body any, out any) int {
	e.t.Helper()
	var rd *bytes.Reader
	b, _ := json.Marshal(body)
	rd = bytes.NewReader(b)
	req, _ := http.NewRequest(method, e.sb.Info.AdminURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.sb.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// agent is an Ethereum JSON-RPC client holding only a bearer credential.
func (e *env) agent(token string) *gethrpc.Client {
	e.t.Helper()
	c, err := gethrpc.DialOptions(context.Background(), e.sb.Info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+token))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Close)
	return c
}

func calldata(t *testing.T, sig string, args ...any) hexutil.Bytes {
	t.Helper()
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := fn.Inputs.Pack(args...)
	if err != nil {
		t.Fatalf("pack %s: %v", sig, err)
	}
	return append(fn.Selector[:], packed...)
}

type txObj struct {
	From  *common.Address `json:"from,omitempty"`
	To    *common.Address `json:"to,omitempty"`
	Value *hexutil.Big    `json:"value,omitempty"`
	Data  hexutil.Bytes   `json:"data,omitempty"`
	Gas   *hexutil.Uint64 `json:"gas,omitempty"`
}

func wei(eth float64) *hexutil.Big {
	v, _ := new(big.Float).Mul(big.NewFloat(eth), big.NewFloat(1e18)).Int(nil)
	return (*hexutil.Big)(v)
}

// rpcCode extracts the JSON-RPC error code, reasons and message.
func rpcCode(err error) (int, []string, string) {
	var ec gethrpc.Error
	if !errors.As(err, &ec) {
		return 0, nil, fmt.Sprint(err)
	}
	var reasons []string
	var de gethrpc.DataError
	if errors.As(err, &de) {
		if m, ok := de.ErrorData().(map[string]any); ok {
			if rs, ok := m["reasons"].([]any); ok {
				for _, r := range rs {
					reasons = append(reasons, fmt.Sprint(r))
				}
			}
		}
	}
	return ec.ErrorCode(), reasons, ec.Error()
}

func wantRefused(t *testing.T, err error, wantCode int, substr string) {
	t.Helper()
	code, reasons, msg := rpcCode(err)
	if code != wantCode {
		t.Fatalf("error code %d (%s), want %d", code, msg, wantCode)
	}
	all := msg + "\n" + strings.Join(reasons, "\n")
	if !strings.Contains(all, substr) {
		t.Fatalf("error %q, reasons %q: want %q", msg, reasons, substr)
	}
	if wantCode == 4001 && len(reasons) == 0 {
		t.Fatalf("4001 without data.reasons: %s", msg)
	}
}

func (e *env) receipt(hash common.Hash) *types.Receipt {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		r, err := e.sb.Chain.Client().TransactionReceipt(ctx, hash)
		if err == nil {
			return r
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("no receipt for %s: %v", hash.Hex(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (e *env) tokenBalance(token, who common.Address) *big.Int {
	e.t.Helper()
	out, err := e.sb.Chain.Client().CallContract(context.Background(), ethCall(token, calldata(e.t, "balanceOf(address)", who)), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}

// verifyAudit checks the whole audit chain against the stored head.
func (e *env) verifyAudit() audit.Report {
	e.t.Helper()
	ctx := context.Background()
	st := e.sb.Home.Store
	head, err := st.AuditHead(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	v := audit.NewVerifier(audit.GenesisHead())
	for after := int64(0); after < head.Seq; {
		recs, err := st.AuditRecords(ctx, after, 500)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			v.Add(r)
		}
		after = recs[len(recs)-1].Seq
	}
	return v.Report(&head)
}
