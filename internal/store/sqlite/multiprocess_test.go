package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

const helperEnv = "AGENTKEYS_STORE_HELPER_DB"

// TestMain turns the test binary into TestMultiProcess's child when the
// environment says so, instead of running the tests.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		helperProcess(path)
	}
	os.Exit(m.Run())
}

// helperProcess takes nonces from the database at path and prints them,
// one a line, then exits.
func helperProcess(path string) {
	n, _ := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer s.Close()
	for range n {
		var nonce uint64
		err := s.Decide(context.Background(), "g", func(ctx context.Context, tx store.DecideTx) error {
			var err error
			if nonce, err = tx.NextNonce(ctx, 1, wallet, 0); err != nil {
				return err
			}
			_, err = tx.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_sendTransaction", Decision: audit.DecisionAllow})
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println(nonce)
	}
	os.Exit(0)
}

// TestMultiProcess has two other processes and this one allocate nonces
// from one file at once: WAL, BEGIN IMMEDIATE and the busy timeout must keep
// every nonce distinct and the audit chain intact.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const each = 30
	path := filepath.Join(t.TempDir(), "agentkeys.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s, 0)

	type child struct {
		cmd *exec.Cmd
		out *bufio.Scanner
	}
	var children []child
	for range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+path, helperEnv+"_N="+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd, bufio.NewScanner(stdout)})
	}

	seen := map[uint64]int{}
	for range each {
		err := s.Decide(t.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
			n, err := tx.NextNonce(ctx, 1, wallet, 0)
			seen[n]++
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range children {
		for c.out.Scan() {
			n, err := strconv.ParseUint(c.out.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", c.out.Text())
			}
			seen[n]++
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	for n := range uint64(3 * each) {
		if seen[n] != 1 {
			t.Fatalf("nonce %d handed out %d times (all: %v)", n, seen[n], seen)
		}
	}
	if len(seen) != 3*each {
		t.Fatalf("%d distinct nonces, want %d", len(seen), 3*each)
	}
	if rep := verifyStored(t, s); !rep.OK() || rep.Records != 2*each {
		t.Error(rep)
	}
}
