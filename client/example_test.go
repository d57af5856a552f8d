package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/client"
)

// An agent reads its endpoint and credential from the environment
// ($AGENTKEYS_RPC_URL, $AGENTKEYS_TOKEN), reads what it may do, and sends
// a transaction; a refusal says why, so the agent can adapt instead of
// retrying. (No output: it needs a running daemon.)
func Example() {
	ctx := context.Background()
	c, err := client.FromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	p, err := c.Permissions(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("acting as", p.Address, "until", p.ExpiresAt)
	for _, line := range p.May {
		fmt.Println("may:", line)
	}

	to := common.HexToAddress("0x9999999999999999999999999999999999999999")
	receipt, err := c.Transact(ctx, client.Tx{To: &to, Value: big.NewInt(1e15)})
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Refused():
		fmt.Println("refused:", e.Reasons)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("mined in block", receipt.BlockNumber)
	}
}
