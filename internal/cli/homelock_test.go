package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

// sandboxRun is an `agentkeys sandbox` running in the background.
type sandboxRun struct {
	out, errOut *syncbuf.Buffer
	cancel      context.CancelFunc
	done        chan int
	once        sync.Once
	code        int
}

// runSandbox starts `agentkeys sandbox` on dir and waits until it serves.
func runSandbox(t *testing.T, dir string) *sandboxRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &sandboxRun{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		r.done <- Main(ctx, []string{"sandbox", "--home", dir, "--listen", "127.0.0.1:0", "--node-listen", "127.0.0.1:0"},
			IO{In: strings.NewReader(""), Out: r.out, Err: r.errOut})
	}()
	t.Cleanup(func() { r.stop() })
	for !strings.Contains(r.out.String(), "Stop with Ctrl-C.") {
		select {
		case code := <-r.done:
			r.done <- code
			t.Fatalf("sandbox exited %d before serving: %s %s", code, r.out.String(), r.errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return r
}

// stop interrupts the sandbox (as Ctrl-C does) and returns its exit code,
// or -1 if it does not stop.
func (r *sandboxRun) stop() int {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.code = <-r.done:
		case <-time.After(30 * time.Second):
			r.code = -1
		}
	})
	return r.code
}

// TestSandboxTwiceOnOneHome: `agentkeys sandbox` on a home another sandbox
// serves fails at once, naming it, and leaves its sandbox.json alone;
// `agentkeys serve` on it fails the same way. Once the first stops, its
// sandbox.json is gone and the home starts again.
func TestSandboxTwiceOnOneHome(t *testing.T) {
	const pass = "sandbox lock test passphrase"
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dir := t.TempDir()
	sb, err := sandbox.Start(context.Background(), sandbox.Config{Home: dir, Passphrase: []byte(pass), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AGENTKEYS_PASSPHRASE", pass)
	info := filepath.Join(dir, sandbox.InfoFile)

	first := runSandbox(t, dir)
	before, err := os.ReadFile(info)
	if err != nil {
		t.Fatal(err)
	}
	held := fmt.Sprintf("home %s is in use by agentkeys sandbox (pid %d) since ", dir, os.Getpid())
	for _, args := range [][]string{
		{"sandbox", "--home", dir, "--listen", "127.0.0.1:0", "--node-listen", "127.0.0.1:0"},
		{"serve", "--home", dir, "--rpc-upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
	} {
		_, stderr, code := run(t, "", args...)
		if code != 1 || !strings.Contains(stderr, held) || !strings.Contains(stderr, "; stop it first or use another --home") {
			t.Errorf("%s on a held home: exit %d, stderr %q; want it to say %q", args[0], code, stderr, held)
		}
		if after, err := os.ReadFile(info); err != nil || string(after) != string(before) {
			t.Fatalf("sandbox.json after a refused %s: %v\n%s\nwant it untouched:\n%s", args[0], err, after, before)
		}
	}

	if code := first.stop(); code != 0 {
		t.Fatalf("the first sandbox exited %d: %s", code, first.errOut.String())
	}
	if _, err := os.Stat(info); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("sandbox.json after the sandbox stopped: %v, want it removed", err)
	}

	again := runSandbox(t, dir)
	if !strings.Contains(again.out.String(), "agentkeys sandbox: chain 31337") {
		t.Errorf("restarted sandbox printed %q", again.out.String())
	}
	if code := again.stop(); code != 0 {
		t.Fatalf("the restarted sandbox exited %d: %s", code, again.errOut.String())
	}
}
