package main

import (
	"bytes"
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/client"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
)

// TestAgentTradesOnTheSandbox runs the example agent against a real
// sandbox (dev chain and daemon) under a swap-only key: its swap is mined
// and the owner holds more USDC, its transfer to a stranger is refused
// with the policy's reason, and the chain shows nothing reached the
// stranger.
func TestAgentTradesOnTheSandbox(t *testing.T) {
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: t.TempDir(), Passphrase: []byte("agent example passphrase"), KDF: &kdf,
		// A fixed clock for daemon and chain: nothing here depends on today.
		Now: clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)).Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	info := sb.Info
	g, err := sb.Service.GrantFrom(ctx, service.GrantSpec{Agent: "agent-go", Profile: "swap-only", Routers: []string{info.Router}, DailyLimit: []string{"0.5ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{client.EnvRPCURL: info.RPCURL, client.EnvToken: g.Token.Reveal()}
	owner, usdc := common.HexToAddress(info.Owner), common.HexToAddress(info.Tokens["USDC"])
	stranger := common.HexToAddress("0x9999999999999999999999999999999999999999")
	balance := func(of common.Address) *big.Int {
		data, _ := erc20Router.Pack("balanceOf", of)
		out, err := sb.Chain.Client().CallContract(ctx, ethereum.CallMsg{To: &usdc, Data: data}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(out)
	}
	before := balance(owner)

	var out bytes.Buffer
	err = run(ctx, []string{"-router", info.Router, "-token", usdc.Hex(), "-amount", "0.02", "-stranger", stranger.Hex()}, func(k string) string { return env[k] }, &out)
	if err != nil {
		t.Fatalf("agent: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	for _, want := range []string{"key " + g.Grant.ID + " (agent agent-go) acts as " + info.Owner, "budget:  0.5 ETH left of 0.5 per 24h",
		"swap 0.02 ETH for at least", "bought ", "transfer to " + stranger.Hex() + " refused", "transfer(address,uint256)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if after := balance(owner); after.Cmp(before) <= 0 {
		t.Errorf("owner's USDC %s after the agent's swap, %s before", after, before)
	}
	if got := balance(stranger); got.Sign() != 0 {
		t.Errorf("the stranger holds %s USDC", got)
	}
}

func TestAgentInputErrors(t *testing.T) {
	ctx := context.Background()
	addr := "0x7512195096df8a1b347efA439F7994b78494d72A"
	env := func(k string) string { return map[string]string{client.EnvRPCURL: "http://127.0.0.1:1/rpc"}[k] }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-token", addr}, "-router: expected an address"},
		{[]string{"-router", addr, "-token", addr, "-amount", "0.1234567890123456789"}, "-amount: expected a positive amount with at most 18 decimals"},
		{[]string{"-router", addr, "-token", addr, "-max-slippage", "1.5"}, "-max-slippage: expected a fraction"},
		{[]string{"-router", addr, "-token", addr}, "set AGENTKEYS_RPC_URL and AGENTKEYS_TOKEN"},
	}
	for _, tt := range tests {
		err := run(ctx, tt.args, env, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %v = %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}
