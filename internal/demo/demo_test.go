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
