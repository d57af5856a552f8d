// Command agentkeys gives AI agents temporary, least-privilege keys to an
// Ethereum wallet. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // schedules name IANA zones; do not depend on the host's tz database

	"github.com/agentkeys/agentkeys/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
