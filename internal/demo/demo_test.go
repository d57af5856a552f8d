package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestDemoTellsTheWholeStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, &out, Options{Home: t.TempDir(), FastKDF: true}); err != nil {
		t.Fatalf("demo failed: %v\noutput so far:\n%s", err, out.String())
	}
	for _, want := range []string{"sandbox up", "swapped 0.05 ETH for", "refused a USDC transfer to a stranger: ", "profile swap-only blocks token transfers",
		"refused a swap paying out to a stranger", "refused a swap over the daily cap", "got 4100: credential revoked", "audit log verified", "demo complete"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "ak_") {
		t.Errorf("demo output shows a credential:\n%s", out.String())
	}
}

func TestDemo7702TellsTheChainRefusing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, &out, Options{Home: t.TempDir(), FastKDF: true, Mode: "7702"}); err != nil {
		t.Fatalf("demo failed: %v\noutput so far:\n%s", err, out.String())
	}
	for _, want := range []string{"delegated to AgentKeyDelegate", "with an EIP-7702 authorization for chain 31337", "registered on chain and funded with a 0.005 ETH gas stipend",
		"swapped 0.05 ETH for", "profile swap-only blocks token transfers", "refused a swap paying out to a stranger", "refused a swap over the daily cap",
		"bypassing agentkeys, to send USDC to a stranger: refused by the chain (NoPermission(", "mined with status 0",
		"got 4100: credential revoked", "the revoked session key used directly for a swap it was once allowed: refused by the chain (Revoked()", "audit log verified"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
