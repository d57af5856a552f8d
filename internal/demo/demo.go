// Package demo tells agentkeys' story end to end on a sandbox: a scoped
// key is granted, the agent trades within it, is refused outside it, and
// stops the moment the key is revoked. The demo command runs it; its test
// keeps it true.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/onchain"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/store"
)

// Options tune a demo run.
type Options struct {
	// Home is where the sandbox lives; empty uses a temporary directory
	// removed afterwards.
	Home string
	// FastKDF derives the sandbox's passphrase key cheaply (the demo home
	// is thrown away).
	FastKDF bool
	// Mode is "wallet" (default) or "7702": the owner delegates to
	// AgentKeyDelegate and the key is a session key the chain holds to its
	// grant.
	Mode string
	// Now is the clock of the daemon and the chain; nil means time.Now.
	Now func() time.Time
}

var stranger = common.HexToAddress("0x000000000000000000000000000000000000dEaD")

const demoPassphrase = "agentkeys demo passphrase"

// Run tells the story, one line per step, and returns an error if any
// step does not turn out as the story says.
func Run(ctx context.Context, w io.Writer, opts Options) (err error) {
	began := time.Now()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	dir := opts.Home
	if dir == "" {
		if dir, err = os.MkdirTemp("", "agentkeys-demo-*"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	var kdf *secrets.KDFParams
	if opts.FastKDF {
		if kdf, err = sandbox.ThrowawayKDF(); err != nil {
			return err
		}
	}
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: dir, Passphrase: []byte(demoPassphrase), KDF: kdf, Now: now})
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	info := sb.Info
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	say("✓ sandbox up: chain %d (Prague) at %s; agentkeys at %s; owner %s", info.ChainID, info.NodeURL, info.RPCURL, info.Owner)

	// The owner grants a swap-only key with a daily cap.
	a := &admin.Client{URL: info.AdminURL, Token: sb.AdminToken}
	var g struct {
		KeyID     string    `json:"key_id"`
		Token     string    `json:"token"`
		Address   string    `json:"address"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	mode := opts.Mode
	if mode == "" {
		mode = "wallet"
	}
	if mode != "wallet" && mode != "7702" {
		return fmt.Errorf("--mode: expected wallet or 7702, got %q", mode)
	}
	if mode == "7702" {
		var st struct {
			Delegated   bool   `json:"delegated"`
			IsAgentKeys bool   `json:"is_agentkeys"`
			Delegate    string `json:"delegate"`
		}
		if err := a.Do(ctx, "POST", "/v1/wallet/upgrade", nil, &st); err != nil {
			return fmt.Errorf("wallet upgrade: %w", err)
		}
		if !st.Delegated || !st.IsAgentKeys {
			return fmt.Errorf("wallet upgrade left the owner undelegated: %+v", st)
		}
		say("✓ owner %s delegated to AgentKeyDelegate %s with an EIP-7702 authorization for chain %d", short(info.Owner), short(st.Delegate), info.ChainID)
	}
	var enforcement struct {
		Session     string `json:"session"`
		Enforcement *struct {
			OnChain      []string `json:"on_chain"`
			OffChainOnly []string `json:"off_chain_only"`
		} `json:"enforcement"`
	}
	spec := map[string]any{"agent": "demo-trader", "mode": mode, "profile": "swap-only", "routers": []string{info.Router}, "daily_limit": []string{"0.1ETH"}, "ttl": "1h"}
	var raw json.RawMessage
	if err := a.Do(ctx, "POST", "/v1/grants", spec, &raw); err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return err
	}
	_ = json.Unmarshal(raw, &enforcement)
	say("✓ owner granted agent demo-trader a swap-only key %s: router %s only, recipient must be the owner, 0.1 ETH per day, expires %s",
		g.KeyID, short(info.Router), g.ExpiresAt.Format(time.RFC3339))
	if e := enforcement.Enforcement; e != nil {
		say("✓ session key %s registered on chain and funded with a 0.005 ETH gas stipend from the budget: %d rules enforced on chain, %d by agentkeys only",
			short(enforcement.Session), len(e.OnChain), len(e.OffChainOnly))
	}

	agent, err := gethrpc.DialOptions(ctx, info.RPCURL, gethrpc.WithHeader("Authorization", "Bearer "+g.Token))
	if err != nil {
		return err
	}
	defer agent.Close()
	owner, router := common.HexToAddress(info.Owner), common.HexToAddress(info.Router)
	usdc, weth := common.HexToAddress(info.Tokens["USDC"]), common.HexToAddress(info.WETH)
	usdcBefore, err := balanceOf(ctx, agent, usdc, owner)
	if err != nil {
		return err
	}
	swap := func(eth string, to common.Address) (common.Hash, error) {
		value, err := policy.ParseAmount(eth, 18, "ETH")
		if err != nil {
			return common.Hash{}, err
		}
		data, err := pack("swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, to, big.NewInt(now().Add(time.Hour).Unix()))
		if err != nil {
			return common.Hash{}, err
		}
		var hash common.Hash
		err = agent.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"to": router, "value": (*hexutil.Big)(value), "data": hexutil.Bytes(data)})
		return hash, err
	}

	hash, err := swap("0.05", owner)
	if err != nil {
		return fmt.Errorf("the agent's swap was refused: %w", err)
	}
	block, err := waitMined(ctx, agent, hash)
	if err != nil {
		return err
	}
	usdcAfter, err := balanceOf(ctx, agent, usdc, owner)
	if err != nil {
		return err
	}
	got := new(big.Int).Sub(usdcAfter, usdcBefore)
	if got.Sign() <= 0 {
		return fmt.Errorf("the swap was mined but the owner's USDC did not grow")
	}
	say("✓ agent swapped 0.05 ETH for %s USDC through the router (tx %s, block %d)", policy.FormatAmount(got, info.Decimals["USDC"]), short(hash.Hex()), block)

	transfer, err := pack("transfer(address,uint256)", stranger, big.NewInt(50_000_000))
	if err != nil {
		return err
	}
	steps := []struct {
		what string
		call func() error
		code int
		want string
	}{
		{"a USDC transfer to a stranger", func() error {
			var h common.Hash
			return agent.CallContext(ctx, &h, "eth_sendTransaction", map[string]any{"to": usdc, "data": hexutil.Bytes(transfer)})
		}, 4001, "profile swap-only blocks token transfers"},
		{"a swap paying out to a stranger", func() error { _, err := swap("0.01", stranger); return err }, 4001, "must be $owner"},
		{"a swap over the daily cap", func() error { _, err := swap("0.07", owner); return err }, 4001, "over the limit of 0.1 ETH"},
	}
	for _, s := range steps {
		msg, err := expectRefusal(s.call(), s.code, s.want)
		if err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		say("✓ refused %s: %s", s.what, msg)
	}

	if mode == "7702" {
		msg, err := bypass(ctx, sb, enforcement.Session, usdc, new(big.Int), transfer)
		if err != nil {
			return fmt.Errorf("the session key used directly: %w", err)
		}
		say("✓ the session key used directly, bypassing agentkeys, to send USDC to a stranger: refused by the chain (%s)", msg)
	}

	if err := a.Do(ctx, "POST", "/v1/grants/"+g.KeyID+"/revoke", nil, nil); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	var bn hexutil.Uint64
	msg, err := expectRefusal(agent.CallContext(ctx, &bn, "eth_blockNumber"), 4100, "revoked")
	if err != nil {
		return fmt.Errorf("after revoking: %w", err)
	}
	say("✓ owner revoked the key; the agent's next request got 4100: %s", msg)
	if mode == "7702" {
		swapData, err := pack("swapExactETHForTokens(uint256,address[],address,uint256)", big.NewInt(1), []common.Address{weth, usdc}, owner, big.NewInt(now().Add(time.Hour).Unix()))
		if err != nil {
			return err
		}
		msg, err := bypass(ctx, sb, enforcement.Session, router, big.NewInt(1e15), swapData)
		if err != nil {
			return fmt.Errorf("the revoked session key used directly: %w", err)
		}
		say("✓ the revoked session key used directly for a swap it was once allowed: refused by the chain (%s)", msg)
	}

	rep, _, err := store.VerifyAudit(ctx, sb.Home.Store, 0)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("audit log does not verify: %s", rep)
	}
	say("✓ audit log verified: %d hash-chained records, head intact", rep.Records)
	say("demo complete in %.1fs", time.Since(began).Seconds())
	return nil
}

// expectRefusal checks that err is a JSON-RPC error with code and a
// message or reason containing want; it returns the first reason.
func expectRefusal(err error, code int, want string) (string, error) {
	if err == nil {
		return "", errors.New("it was allowed")
	}
	var ec gethrpc.Error
	if !errors.As(err, &ec) {
		return "", err
	}
	msg := ec.Error()
	var de gethrpc.DataError
	if errors.As(err, &de) {
		if m, ok := de.ErrorData().(map[string]any); ok {
			if rs, ok := m["reasons"].([]any); ok && len(rs) > 0 {
				parts := make([]string, len(rs))
				for i, r := range rs {
					parts[i] = fmt.Sprint(r)
				}
				msg = strings.Join(parts, "; ")
			}
		}
	}
	if ec.ErrorCode() != code || !strings.Contains(msg, want) {
		return "", fmt.Errorf("got error %d %q, want %d containing %q", ec.ErrorCode(), msg, code, want)
	}
	return msg, nil
}

func pack(sig string, args ...any) ([]byte, error) {
	fn, err := policy.ParseSignature(sig)
	if err != nil {
		return nil, err
	}
	b, err := fn.Inputs.Pack(args...)
	if err != nil {
		return nil, err
	}
	return append(fn.Selector[:], b...), nil
}

func balanceOf(ctx context.Context, c *gethrpc.Client, token, who common.Address) (*big.Int, error) {
	data, err := pack("balanceOf(address)", who)
	if err != nil {
		return nil, err
	}
	var out hexutil.Bytes
	if err := c.CallContext(ctx, &out, "eth_call", map[string]any{"to": token, "data": hexutil.Bytes(data)}, "latest"); err != nil {
		return nil, fmt.Errorf("read balance: %w", err)
	}
	return new(big.Int).SetBytes(out), nil
}

func waitMined(ctx context.Context, c *gethrpc.Client, hash common.Hash) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var r *struct {
			Status      hexutil.Uint64 `json:"status"`
			BlockNumber hexutil.Uint64 `json:"blockNumber"`
		}
		if err := c.CallContext(ctx, &r, "eth_getTransactionReceipt", hash); err != nil {
			return 0, err
		}
		if r != nil {
			if r.Status != 1 {
				return 0, fmt.Errorf("transaction %s reverted", hash.Hex())
			}
			return uint64(r.BlockNumber), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("transaction %s not mined: %w", hash.Hex(), ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func short(s string) string {
	if len(s) < 12 {
		return s
	}
	return s[:6] + "…" + s[len(s)-4:]
}

// bypass plays a thief who stole the session key: it sends execute on the
// owner's account straight to the chain, and returns the chain's refusal.
func bypass(ctx context.Context, sb *sandbox.Sandbox, session string, target common.Address, value *big.Int, calldata []byte) (string, error) {
	grants, err := sb.Home.Store.ListGrants(ctx, store.GrantFilter{})
	if err != nil {
		return "", err
	}
	var keyID string
	for _, g := range grants {
		if g.Meta[service.SessionAddress] == session {
			keyID = g.SignerKeyID
		}
	}
	k, err := sb.Home.Store.GetKey(ctx, keyID)
	if err != nil {
		return "", fmt.Errorf("find the session key: %w", err)
	}
	raw, err := sb.Home.Master.Open(k.ID, k.Sealed)
	if err != nil {
		return "", err
	}
	key, err := secrets.PrivateKeyFromBytes(raw)
	if err != nil {
		return "", err
	}
	owner := common.HexToAddress(sb.Info.Owner)
	c := sb.Chain.Client()
	data := onchain.PackExecute(target, value, calldata)
	_, callErr := c.CallContract(ctx, ethereum.CallMsg{From: key.Address(), To: &owner, Data: data}, nil)
	var de interface{ ErrorData() any }
	reason := "reverted"
	if errors.As(callErr, &de) {
		if h, ok := de.ErrorData().(string); ok {
			if name := onchain.DecodeError(common.FromHex(h)); name != "" {
				reason = name
			}
		}
	} else if callErr == nil {
		return "", errors.New("the chain would have executed it")
	}
	// Send it anyway, with gas set by hand so no estimate stops it: the
	// chain itself must revert it.
	rcpt, err := sb.Chain.SendAs(ctx, key, devchain.Tx{To: &owner, Data: data, Gas: 300_000})
	if rcpt == nil {
		return "", err
	}
	if rcpt.Status != types.ReceiptStatusFailed {
		return "", fmt.Errorf("transaction %s succeeded", rcpt.TxHash.Hex())
	}
	return fmt.Sprintf("%s; tx %s mined with status 0", reason, short(rcpt.TxHash.Hex())), nil
}
