package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

const testPassphrase = "sandbox test passphrase"

var stranger = common.HexToAddress("0x9999999999999999999999999999999999999999")

// EnvShiftWeeks moves the start of every sandbox test's clock by whole
// weeks (weekday and time of day stay), so CI can run the end-to-end tests
// years away from the date they were written on and catch any part that
// reads the wall clock instead of the injected one.
const EnvShiftWeeks = "AGENTKEYS_TEST_SHIFT_WEEKS"

// testEpoch is when a sandbox test starts: Wednesday 2026-11-25 10:00 UTC,
// shifted by $AGENTKEYS_TEST_SHIFT_WEEKS.
func testEpoch(t testing.TB) time.Time {
	t.Helper()
	epoch := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // a Wednesday
	if v := os.Getenv(EnvShiftWeeks); v != "" {
		weeks, err := strconv.Atoi(v)
		if err != nil || weeks < -2000 || weeks > 2000 {
			t.Fatalf("%s: expected a whole number of weeks between -2000 and 2000, got %q", EnvShiftWeeks, v)
		}
		epoch = epoch.AddDate(0, 0, 7*weeks)
	}
	return epoch
}

type env struct {
	t     testing.TB
	sb    *Sandbox
	clock *clock.Fake
	logs  *syncbuf.Buffer
	// wire collects every HTTP response body the daemon sent to a client
	// in this test (agents and admin), except the one response that
	// creates a key and so legitimately carries its credential once.
	wire *syncbuf.Buffer
	// transport carries every request of this test to the daemon; its
	// idle connections are closed before the daemon, whose graceful
	// shutdown would otherwise wait up to 5s for connections a client
	// dialed but never used.
	transport *http.Transport

	closeOnce sync.Once
	closeErr  error
}

// close stops the sandbox once; later calls (and the test's cleanup) do
// nothing, because Sandbox.Close is not idempotent.
func (e *env) close() error {
	e.closeOnce.Do(func() {
		e.transport.CloseIdleConnections()
		e.closeErr = e.sb.Close()
	})
	return e.closeErr
}

// recorder is an http.RoundTripper that keeps a copy of every response
// body in wire.
type recorder struct {
	next http.RoundTripper
	wire *syncbuf.Buffer
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.wire.Write(b)
	r.wire.Write([]byte("\n"))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (e *env) httpClient() *http.Client {
	return &http.Client{Transport: recorder{e.transport, e.wire}, Timeout: time.Minute}
}

func start(t testing.TB) *env {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	c := clock.NewFake(testEpoch(t))
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := Start(ctx, Config{Home: t.TempDir(), Passphrase: []byte(testPassphrase), KDF: &kdf, Now: c.Now,
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	e := &env{t: t, sb: sb, clock: c, logs: logs, wire: &syncbuf.Buffer{}, transport: tr}
	t.Cleanup(func() { e.close() })
	return e
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
	return e.adminAs(e.sb.AdminToken, method, path, body, out)
}

// adminAs calls the admin API with the given bearer token ("" sends no
// Authorization header). Every response body goes to e.wire except a
// successful key creation, the one response allowed to show a credential.
func (e *env) adminAs(token, method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.sb.Info.AdminURL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: e.transport, Timeout: time.Minute}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if !(method == http.MethodPost && path == "/v1/grants" && resp.StatusCode == http.StatusCreated) {
		e.wire.Write(append(b, '\n'))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: HTTP %d, body not JSON: %v\n%s", method, path, resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode
}

// rpcReply is one JSON-RPC response as the daemon wrote it.
type rpcReply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// post sends body to /rpc as it is, with Authorization: Bearer token
// unless token is "", and returns the HTTP status and the body.
func (e *env) post(token, body string) (int, []byte) {
	e.t.Helper()
	return e.do(http.MethodPost, token, body)
}

func (e *env) do(method, token, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.sb.Info.RPCURL, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.httpClient().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// call makes one JSON-RPC request over raw HTTP and decodes the reply.
func (e *env) call(token, method string, params ...any) rpcReply {
	e.t.Helper()
	if params == nil {
		params = []any{}
	}
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		e.t.Fatal(err)
	}
	status, body := e.post(token, string(b))
	if status != http.StatusOK {
		e.t.Fatalf("%s: HTTP %d: %s", method, status, body)
	}
	var r rpcReply
	if err := json.Unmarshal(body, &r); err != nil {
		e.t.Fatalf("%s: reply is not JSON-RPC: %v\n%s", method, err, body)
	}
	return r
}

// agent is an Ethereum JSON-RPC client holding only a bearer credential.
func (e *env) agent(token string) *gethrpc.Client {
	e.t.Helper()
	c, err := gethrpc.DialOptions(context.Background(), e.sb.Info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+token),
		gethrpc.WithHTTPClient(e.httpClient()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Close)
	return c
}

func calldata(t testing.TB, sig string, args ...any) hexutil.Bytes {
	t.Helper()
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	data, err := fn.Calldata(args...)
	if err != nil {
		t.Fatal(err)
	}
	return data
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
			// A node indexes a block's receipts a moment before it makes
			// the block its head: wait for the head, so reads at "latest"
			// that follow see the transaction's effects.
			var head *types.Header
			if head, err = e.sb.Chain.Client().HeaderByNumber(ctx, nil); err == nil && head.Number.Cmp(r.BlockNumber) >= 0 {
				return r
			}
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
	rep, _, err := store.VerifyAudit(context.Background(), e.sb.Home.Store, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// wantError checks that a raw reply is a JSON-RPC error with code whose
// message (or data.reasons) contains substr, and returns the message.
func wantError(t *testing.T, r rpcReply, code int, substr string) string {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("result %s, want error %d containing %q", r.Result, code, substr)
	}
	if r.Error.Code != code {
		t.Fatalf("error %d %q, want code %d", r.Error.Code, r.Error.Message, code)
	}
	all := r.Error.Message + "\n" + string(r.Error.Data)
	if !strings.Contains(all, substr) {
		t.Fatalf("error %d %q (data %s): want %q", r.Error.Code, r.Error.Message, r.Error.Data, substr)
	}
	if code == 4001 {
		var d struct {
			Reasons []string `json:"reasons"`
		}
		if err := json.Unmarshal(r.Error.Data, &d); err != nil || len(d.Reasons) == 0 {
			t.Fatalf("4001 without data.reasons: %q, data %s", r.Error.Message, r.Error.Data)
		}
	}
	t.Logf("error %d: %s", r.Error.Code, r.Error.Message)
	return r.Error.Message
}

// wantResult checks that a raw reply succeeded and decodes its result.
func wantResult(t *testing.T, r rpcReply, out any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("error %d %q (data %s), want a result", r.Error.Code, r.Error.Message, r.Error.Data)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			t.Fatalf("result %s: %v", r.Result, err)
		}
	}
}

// token returns the credential of a grant response.
func token(t *testing.T, g map[string]any) string {
	t.Helper()
	tok, ok := g["token"].(string)
	if !ok || !strings.HasPrefix(tok, "ak_") {
		t.Fatalf("grant response without an ak_ token: %v", g)
	}
	return tok
}

// auditRecords returns every audit record, oldest first.
func (e *env) auditRecords() []audit.Record {
	e.t.Helper()
	var out []audit.Record
	for after := int64(0); ; {
		recs, err := e.sb.Home.Store.AuditRecords(context.Background(), after, 500)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Seq
	}
}

// policyText is a YAML policy for the sandbox chain: the given lines
// appended to a name and the chain.
func policyText(name string, lines ...string) string {
	return "name: " + name + "\nchains: [31337]\n" + strings.Join(lines, "\n") + "\n"
}
