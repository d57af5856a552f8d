package gethtest

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestStartAndFund starts a dev node, funds an address from the dev
// account and reads the balance back from the node.
func TestStartAndFund(t *testing.T) {
	n := Start(t)
	if n.ChainID != 1337 {
		t.Fatalf("chain id %d, want geth --dev's 1337", n.ChainID)
	}
	to := common.HexToAddress("0x00000000000000000000000000000000a11ce000")
	want := big.NewInt(123456789)
	n.Fund(t, want, to)
	got, err := n.Client().BalanceAt(context.Background(), to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cmp(want) != 0 {
		t.Fatalf("balance %s, want %s", got, want)
	}
}
