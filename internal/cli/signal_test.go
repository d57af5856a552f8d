package cli

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/faultnode"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// runMainEnv makes this test binary run agentkeys's main instead of the
// tests, so a test can signal a real process.
const runMainEnv = "AGENTKEYS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		// As cmd/agentkeys's main.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestServeStartHonoursSIGTERM: serve starting against a ws:// node that
// accepts and never answers the handshake exits on SIGTERM, however long
// its dial deadline, and says nothing of the URL's path.
func TestServeStartHonoursSIGTERM(t *testing.T) {
	dir, _, _ := testHome(t)
	srv := faultnode.Start(t, faultnode.Mute, nil)
	cmd := exec.Command(os.Args[0], "serve", "--home", dir, "--rpc-upstream", srv.URL("ws", "/v3/s3cr3tapikey"),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--node-dial-timeout", "10m")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "AGENTKEYS_PASSPHRASE="+deployPassphrase)
	var out, errOut syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); srv.Seen("") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("serve never reached the node: %s %s", out.String(), errOut.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !cmd.ProcessState.Exited() {
			t.Fatalf("serve did not exit by itself: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve ignored SIGTERM during start-up: %s", errOut.String())
	}
	if !strings.Contains(errOut.String(), "context canceled") || strings.Contains(errOut.String()+out.String(), "s3cr3t") {
		t.Errorf("stderr %q: want the cancellation and not the URL's path", errOut.String())
	}
}

// TestServeNodeTimeoutFlags: a malformed --node-*-timeout is refused
// before the home is unlocked, naming the flag.
func TestServeNodeTimeoutFlags(t *testing.T) {
	dir, _, _ := testHome(t)
	_, errOut, code := run(t, "", "serve", "--home", dir, "--rpc-upstream", "http://127.0.0.1:1", "--node-estimate-timeout", "2h")
	if code == 0 || !strings.Contains(errOut, `--node-estimate-timeout: expected a duration from 100ms to 10m0s like 10s or 500ms, got "2h"`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
