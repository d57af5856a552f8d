// Package loadbench measures the daemon under load, end to end: it starts
// a sandbox (dev chain and daemon) in a throwaway home, drives concurrent
// agents over HTTP, each with its own key, and reports throughput and
// latency percentiles beside the bare ceiling of signing the same
// transactions with the daemon's signer and nothing else. The bench
// command uses it.
package loadbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/seed"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store/groupcommit"
)

// Methods the bench drives, in the order it runs them.
const (
	MethodSign = "eth_signTransaction"
	MethodSend = "eth_sendTransaction"
)

// DefaultAgents are the agent counts of a run without --agents.
var DefaultAgents = []int{1, 8, 64, 256}

// MaxAgents bounds an agent count: each agent is a key granted in the
// throwaway home and an open connection.
const MaxAgents = 4096

// Options tune a run.
type Options struct {
	Agents   []int         // concurrent agents per step, each its own key
	Duration time.Duration // how long each step (and the ceiling) runs
	Methods  []string      // MethodSign and/or MethodSend
	// Estimate leaves gas out of the agents' transactions, so the daemon
	// asks the node to estimate it for each; by default they give it, as
	// agents that know their calls do.
	Estimate bool
	// Progress, if set, gets each result as its step ends (the ceiling
	// is not known yet: CeilingPerS is zero).
	Progress func(Result)
	// Grants and Records, if set, fill the throwaway home's store with
	// that many keys and audit records (package seed) before the daemon
	// starts, so the same load runs against a big store.
	Grants, Records int
	// Store, if set, is the URL of an empty PostgreSQL database for the
	// throwaway home's store instead of SQLite; the run leaves its keys
	// and records there.
	Store string
	// Seeded, if set, is told what the seeding wrote when it is done.
	Seeded func(seed.Result)
}

// Result is one step: one method at one agent count.
type Result struct {
	Agents     int     `json:"agents"`
	Method     string  `json:"method"`
	Requests   int     `json:"requests"` // answered without error
	Throughput float64 `json:"throughput_per_s"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"` // what the first failed request said, clipped
	// Connections is how many connections the agents opened during the
	// step: about one per agent when keep-alive works (a few more when
	// agents start together: Go's client dials while it waits for a busy
	// connection to come back), one per request when it does not.
	Connections int `json:"connections"`
	// NodeCallsPerRequest is the daemon's calls to its node during the
	// step (the watcher's and head follower's included) per answered
	// request.
	NodeCallsPerRequest float64 `json:"node_calls_per_request"`
	// WritesPerCommit is how many write jobs (decisions and the other
	// writes) each store commit held on average during the step: group
	// commit at work (both stores' writers, package store/groupcommit).
	WritesPerCommit float64 `json:"writes_per_commit,omitempty"`
	CeilingPerS     float64 `json:"ceiling_per_s"`

	// The store the run started with (Options.Grants and Records), and
	// what it cost the daemon: the same in every row of a run.
	SeededGrants  int `json:"seeded_grants"`
	SeededRecords int `json:"seeded_records"`
	// StartupS is how long the sandbox took to start (dev chain and
	// daemon, over the store); CatchUpS how long the daemon's audit
	// feed then took to read the whole log (anomaly detection, metrics
	// and the dashboard replay it at every start), before the steps ran.
	StartupS float64 `json:"startup_s"`
	CatchUpS float64 `json:"feed_catch_up_s"`
	// ListKeysMS is the median time of GET /v1/grants?limit=100 (the
	// first page of keys, with their usage and budgets) over 5 calls.
	ListKeysMS float64 `json:"list_keys_ms"`

	// RSSMB is the process's resident memory (VmRSS) when the step ended
	// and PeakRSSMB its peak (VmHWM) since the daemon started. The daemon
	// runs in this process, so they are the daemon's memory and the
	// agents' client's together. Zero where /proc/self/status is not.
	RSSMB     float64 `json:"rss_mb"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// sink receives the benched transfers: 1 wei each, so the owner's funds
// and the keys' caps last far beyond any run.
var sink = seed.Sink

const passphrase = "agentkeys bench passphrase"

// Run starts a sandbox in a temporary home (removed afterwards), grants
// one key per agent and runs each method at each agent count for
// opts.Duration, then measures the signing ceiling for as long. A failed
// request is counted in its result, never fatal; Run fails only when the
// sandbox cannot start, the first request (which shows the transaction
// the ceiling signs) fails, or ctx ends.
func Run(ctx context.Context, opts Options) (_ []Result, err error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "agentkeys-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	kdf, err := sandbox.ThrowawayKDF()
	if err != nil {
		return nil, err
	}
	cfg := sandbox.Config{Home: dir, Passphrase: []byte(passphrase), KDF: kdf, Store: opts.Store,
		HeadEvery: service.DefaultHeadEvery, WatchEvery: service.DefaultWatchEvery}
	if opts.Grants > 0 || opts.Records > 0 {
		if err := seedHome(ctx, cfg, opts); err != nil {
			return nil, err
		}
	}
	// The peak from here on is the daemon's (and the agents'), not the
	// seeding's.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	// As the sandbox command runs it: following heads and watching
	// transactions.
	started := time.Now()
	sb, err := sandbox.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	defer func() { err = errors.Join(err, sb.Close()) }()
	startup := time.Since(started)
	started = time.Now()
	if err := sb.Service.Feed().Sync(ctx); err != nil {
		return nil, fmt.Errorf("audit feed: %w", err)
	}
	catchUp := time.Since(started)

	tokens, err := grantKeys(ctx, sb.Service, sb.Info.ChainID, slices.Max(opts.Agents))
	if err != nil {
		return nil, err
	}
	listKeys, err := timeListKeys(ctx, sb)
	if err != nil {
		return nil, err
	}
	client, dials := newClient(slices.Max(opts.Agents))
	defer client.CloseIdleConnections()
	// One request first: it warms the daemon and gives the ceiling the
	// exact transaction the daemon signs.
	var raw hexutil.Bytes
	if err := call(ctx, client, sb.Info.RPCURL, tokens[0], body(MethodSign, opts.Estimate), &raw); err != nil {
		return nil, fmt.Errorf("first %s: %w", MethodSign, err)
	}
	var template types.Transaction
	if err := template.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("decode the signed transaction: %w", err)
	}

	var results []Result
	for _, n := range opts.Agents {
		for _, m := range opts.Methods {
			before, calls, writes := dials.Load(), sb.Service.NodeCalls(), writerStats(sb)
			r, err := step(ctx, client, sb.Info.RPCURL, tokens[:n], body(m, opts.Estimate), opts.Duration)
			if err != nil {
				return nil, err
			}
			r.Method = m
			r.SeededGrants, r.SeededRecords = opts.Grants, opts.Records
			r.StartupS, r.CatchUpS, r.ListKeysMS = startup.Seconds(), catchUp.Seconds(), listKeys
			r.RSSMB, r.PeakRSSMB = memoryMB()
			r.Connections = int(dials.Load() - before)
			if r.Requests > 0 {
				r.NodeCallsPerRequest = float64(sb.Service.NodeCalls()-calls) / float64(r.Requests)
			}
			if after := writerStats(sb); after.Commits > writes.Commits {
				r.WritesPerCommit = float64(after.Jobs-writes.Jobs) / float64(after.Commits-writes.Commits)
			}
			if opts.Progress != nil {
				opts.Progress(r)
			}
			results = append(results, r)
		}
	}
	ceiling, err := Ceiling(ctx, &template, opts.Duration)
	if err != nil {
		return nil, err
	}
	for i := range results {
		results[i].CeilingPerS = ceiling
	}
	return results, nil
}

// writerStats is the store's group-commit counts, or zeros.
func writerStats(sb *sandbox.Sandbox) groupcommit.Stats {
	if w, ok := sb.Home.Store.(interface{ WriterStats() groupcommit.Stats }); ok {
		return w.WriterStats()
	}
	return groupcommit.Stats{}
}

func (o *Options) check() error {
	if len(o.Agents) == 0 {
		return fmt.Errorf("--agents: expected a list of agent counts like 1,8,64")
	}
	for _, n := range o.Agents {
		if n < 1 || n > MaxAgents {
			return fmt.Errorf("--agents: expected counts from 1 to %d, got %d", MaxAgents, n)
		}
	}
	if o.Duration <= 0 {
		return fmt.Errorf("--duration: expected a positive duration like 10s, got %v", o.Duration)
	}
	if len(o.Methods) == 0 {
		return fmt.Errorf("--method: expected sign, send or both")
	}
	if o.Grants < 0 || o.Grants > seed.MaxGrants || o.Records < 0 || o.Records > seed.MaxRecords {
		return fmt.Errorf("--grants, --records: expected 0 to %d keys and 0 to %d records", seed.MaxGrants, seed.MaxRecords)
	}
	if o.Records > 0 && o.Grants == 0 {
		return fmt.Errorf("--records: the records are the seeded keys' requests: give --grants too")
	}
	for _, m := range o.Methods {
		if m != MethodSign && m != MethodSend {
			return fmt.Errorf("--method: expected sign, send or both, got %q", m)
		}
	}
	return nil
}

// grantKeys grants n keys, each allowed only 1-wei transfers to the sink,
// with caps no run reaches, and returns their credentials.
func grantKeys(ctx context.Context, svc *service.Service, chainID uint64, n int) ([]string, error) {
	doc := seed.PolicyYAML(chainID)
	tokens := make([]string, n)
	for i := range tokens {
		g, err := svc.GrantFrom(ctx, service.GrantSpec{Agent: fmt.Sprintf("bench-%d", i), Policy: doc})
		if err != nil {
			return nil, fmt.Errorf("grant key %d: %w", i, err)
		}
		tokens[i] = g.Token.Reveal()
	}
	return tokens, nil
}

// newClient keeps a connection alive per agent, and counts the
// connections it opens.
func newClient(agents int) (*http.Client, *atomic.Int64) {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	dials := new(atomic.Int64)
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        agents + 16,
		MaxIdleConnsPerHost: agents + 16,
		IdleConnTimeout:     time.Minute,
	}
	return &http.Client{Transport: t, Timeout: time.Minute}, dials
}

// transferGas is a plain transfer's gas, which the agents give unless
// Options.Estimate.
const transferGas = "0x5208"

func body(method string, estimate bool) []byte {
	tx := map[string]any{"to": sink, "value": "0x1"}
	if !estimate {
		tx["gas"] = transferGas
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": []any{tx}})
	return b
}

// call makes one JSON-RPC request and decodes its result into out (nil
// skips decoding); a JSON-RPC error or an HTTP status other than 200 is
// an error.
func call(ctx context.Context, c *http.Client, url, token string, req []byte, out any) error {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(string(b)))
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if r.Error != nil {
		return fmt.Errorf("JSON-RPC error %d: %s", r.Error.Code, clip(r.Error.Message))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// step runs len(tokens) agents, each sending req with its own key in a
// loop until d has passed, and sums up what they saw. A request started
// before the deadline is waited for and counted.
func step(ctx context.Context, c *http.Client, url string, tokens []string, req []byte, d time.Duration) (Result, error) {
	type agentRun struct {
		took     []time.Duration
		errors   int
		firstErr error
	}
	runs := make([]agentRun, len(tokens))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, token := range tokens {
		wg.Add(1)
		go func(r *agentRun) {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				if err := call(ctx, c, url, token, req, nil); err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.took = append(r.took, time.Since(t0))
			}
		}(&runs[i])
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Agents: len(tokens)}
	var took []time.Duration
	for _, r := range runs {
		took = append(took, r.took...)
		res.Errors += r.errors
		if res.FirstError == "" && r.firstErr != nil {
			res.FirstError = clip(r.firstErr.Error())
		}
	}
	slices.Sort(took)
	res.Requests = len(took)
	res.Throughput = float64(len(took)) / elapsed.Seconds()
	res.P50, res.P95, res.P99 = percentile(took, 50), percentile(took, 95), percentile(took, 99)
	return res, nil
}

// percentile is the nearest-rank p-th percentile of sorted durations, in
// milliseconds; zero for none.
func percentile(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n), 1-based
	return float64(sorted[max(rank, 1)-1]) / float64(time.Millisecond)
}

// Ceiling signs copies of tx (each with its own nonce) with a fresh key
// of the daemon's kind through signer.Wallet, the daemon's signer, on
// GOMAXPROCS goroutines for d, with no HTTP, policy, ledger or audit, and
// returns signatures per second.
func Ceiling(ctx context.Context, tx *types.Transaction, d time.Duration) (float64, error) {
	key, err := secrets.GenerateKey()
	if err != nil {
		return 0, err
	}
	w := signer.NewWallet(key)
	chainID := tx.ChainId()
	if chainID == nil || chainID.Sign() <= 0 {
		return 0, fmt.Errorf("ceiling: the daemon's transaction names no chain")
	}
	if t := tx.Type(); t != types.DynamicFeeTxType && t != types.LegacyTxType {
		return 0, fmt.Errorf("ceiling: the daemon signed a type-%d transaction; the bench rebuilds only types 0 and 2", t)
	}
	workers := runtime.GOMAXPROCS(0)
	counts := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range workers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			nonce := uint64(i) << 40
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if _, err := w.SignTx(withNonce(tx, nonce), chainID); err != nil {
					errs[i] = err
					return
				}
				nonce++
				counts[i]++
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	return float64(total) / elapsed.Seconds(), nil
}

// withNonce is tx unsigned, with nonce n: the work the daemon does to
// build a transaction before it signs.
func withNonce(tx *types.Transaction, n uint64) *types.Transaction {
	switch tx.Type() {
	case types.DynamicFeeTxType:
		return types.NewTx(&types.DynamicFeeTx{ChainID: tx.ChainId(), Nonce: n, GasTipCap: tx.GasTipCap(), GasFeeCap: tx.GasFeeCap(),
			Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), Data: tx.Data(), AccessList: tx.AccessList()})
	default:
		return types.NewTx(&types.LegacyTx{Nonce: n, GasPrice: tx.GasPrice(), Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), Data: tx.Data()})
	}
}

// seedHome makes the sandbox home of cfg and fills its store as opts say.
func seedHome(ctx context.Context, cfg sandbox.Config, opts Options) error {
	h, err := sandbox.InitHome(ctx, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	res, err := seed.Run(ctx, h.Store, seed.Options{Grants: opts.Grants, Records: opts.Records, ChainID: h.Config.ChainID,
		Address: h.Config.WalletAddress, SignerKeyID: h.Config.WalletKeyID, Now: time.Now(), Seal: h.Master.Seal})
	if err != nil {
		return err
	}
	if opts.Seeded != nil {
		opts.Seeded(res)
	}
	return nil
}

// timeListKeys returns the median time, in milliseconds, of five calls
// of GET /v1/grants?limit=100 on the sandbox's admin API.
func timeListKeys(ctx context.Context, sb *sandbox.Sandbox) (float64, error) {
	var took []time.Duration
	for range 5 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, sb.Info.AdminURL+"/v1/grants?limit=100", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+sb.AdminToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("list keys: %w", err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("list keys: HTTP %d %v", resp.StatusCode, err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return float64(took[len(took)/2]) / float64(time.Millisecond), nil
}

// memoryMB reads the process's resident memory and its peak, in MiB,
// from /proc/self/status; zeros where it cannot.
func memoryMB() (rss, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb / 1024
		} else {
			peak = kb / 1024
		}
	}
	return rss, peak
}

// resetPeakRSS makes the peak (VmHWM) start again from the resident
// memory now (Linux: "5" to /proc/self/clear_refs); where it cannot, the
// peak stays the process's since it began.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
