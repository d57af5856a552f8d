package upstream_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"

	"github.com/agentkeys/agentkeys/internal/faultnode"
	"github.com/agentkeys/agentkeys/internal/upstream"
)

// secretPath stands for a provider's API key in the node's URL: no error
// may quote it.
const secretPath = "/v3/s3cr3tapikey"

// short deadlines: the mute and slow servers never answer within them.
var short = upstream.Timeouts{Dial: 200 * time.Millisecond, Read: 200 * time.Millisecond, Estimate: 200 * time.Millisecond, Broadcast: 200 * time.Millisecond}

// generous deadlines: a healthy (or slightly slow) server answers within them.
var generous = upstream.Timeouts{Dial: time.Minute, Read: time.Minute, Estimate: time.Minute, Broadcast: time.Minute}

func checkQuiet(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error quotes the node's URL: %v", err)
	}
}

// TestFaults: per fault of a node, what reading the chain id over HTTP
// and connecting over WebSocket come to: a TimeoutError exactly when the
// node let the deadline pass, another error for the other faults, and
// never the node's URL in it.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   faultnode.Fault
		refuse  bool
		t       upstream.Timeouts
		timeout bool // a TimeoutError
		ok      bool // the chain id is read
	}{
		{name: "refuses", refuse: true, t: generous},
		{name: "accepts and never answers", fault: faultnode.Mute, t: short, timeout: true},
		{name: "answers slower than the deadline", fault: faultnode.Slow, t: short, timeout: true},
		{name: "answers slowly within the deadline", fault: faultnode.Slow, t: generous, ok: true},
		{name: "answers garbage", fault: faultnode.Garbage, t: generous},
		{name: "resets mid-body", fault: faultnode.Reset, t: generous},
		{name: "healthy", fault: faultnode.Pass, t: generous, ok: true},
	} {
		schemes := []string{"http", "ws"}
		if tc.ok {
			// faultnode plays faults of the WebSocket handshake only.
			schemes = schemes[:1]
		}
		for _, scheme := range schemes {
			t.Run(scheme+" "+tc.name, func(t *testing.T) {
				addr := faultnode.Refusing(t)
				if !tc.refuse {
					srv := faultnode.Start(t, tc.fault, nil)
					srv.SetDelay(50 * time.Millisecond)
					if tc.timeout {
						srv.SetDelay(time.Hour)
					}
					addr = srv.Addr()
				}
				url := scheme + "://" + addr + secretPath
				ctx := t.Context()
				n, err := upstream.Dial(ctx, url, tc.t)
				if scheme == "ws" {
					// The faults play on the WebSocket handshake: dialling fails.
					var te *upstream.TimeoutError
					switch {
					case tc.timeout:
						if !errors.As(err, &te) || te.Op != "connect" || !errors.Is(err, context.DeadlineExceeded) {
							t.Fatalf("dial: %v, want a connect timeout", err)
						}
					default:
						if err == nil || errors.As(err, &te) {
							t.Fatalf("dial: %v, want a failure that is not a timeout", err)
						}
					}
					checkQuiet(t, err)
					return
				}
				if err != nil {
					t.Fatalf("dial over HTTP connects lazily: %v", err)
				}
				defer n.Close()
				id, err := n.ChainID(ctx)
				checkQuiet(t, err)
				var te *upstream.TimeoutError
				switch {
				case tc.ok:
					if err != nil || id.Uint64() != 1337 {
						t.Fatalf("chain id %v, %v", id, err)
					}
				case tc.timeout:
					if !errors.As(err, &te) || te.Op != "eth_chainId" || te.After != tc.t.Read || !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("chain id: %v, want a read timeout", err)
					}
				default:
					if err == nil || errors.As(err, &te) {
						t.Fatalf("chain id: %v, want a failure that is not a timeout", err)
					}
				}
			})
		}
	}
}

// TestDeadlinePerKind: a node mute on eth_estimateGas and
// eth_sendRawTransaction only costs each its own deadline, and reads go
// on.
func TestDeadlinePerKind(t *testing.T) {
	srv := faultnode.Start(t, faultnode.Pass, nil)
	srv.SetFor("eth_estimateGas", faultnode.Mute)
	srv.SetFor("eth_sendRawTransaction", faultnode.Mute)
	tm := upstream.Timeouts{Read: time.Minute, Estimate: 100 * time.Millisecond, Broadcast: 150 * time.Millisecond}
	n, err := upstream.Dial(t.Context(), srv.URL("http", secretPath), tm)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, err = n.EstimateGas(t.Context(), ethereum.CallMsg{})
	var te *upstream.TimeoutError
	if !errors.As(err, &te) || te.Op != "eth_estimateGas" || te.After != tm.Estimate {
		t.Fatalf("estimate: %v", err)
	}
	err = n.CallContext(t.Context(), new(string), "eth_sendRawTransaction", "0x00")
	if !errors.As(err, &te) || te.Op != "eth_sendRawTransaction" || te.After != tm.Broadcast {
		t.Fatalf("broadcast: %v", err)
	}
	var id string
	if err := n.CallContext(t.Context(), &id, "eth_chainId"); err != nil || id != "0x539" {
		t.Fatalf("read after the mute calls: %q, %v", id, err)
	}
	if srv.Seen("eth_estimateGas") != 1 || srv.Seen("eth_sendRawTransaction") != 1 {
		t.Fatalf("the server saw estimate %d, broadcast %d", srv.Seen("eth_estimateGas"), srv.Seen("eth_sendRawTransaction"))
	}
}

// TestCallerDeadlineIsTheCallers: when the caller's own context ends
// first, the error is the caller's, not a node timeout.
func TestCallerDeadlineIsTheCallers(t *testing.T) {
	srv := faultnode.Start(t, faultnode.Mute, nil)
	n, err := upstream.Dial(t.Context(), srv.URL("http", ""), generous)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for srv.Seen("eth_chainId") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err = n.ChainID(ctx)
	var te *upstream.TimeoutError
	if !errors.Is(err, context.Canceled) || errors.As(err, &te) {
		t.Fatalf("chain id: %v, want the caller's cancellation", err)
	}
}

// TestDialHonoursCancel: a WebSocket node that accepts and never answers
// the handshake holds Dial only until its context is cancelled, however
// long the dial deadline.
func TestDialHonoursCancel(t *testing.T) {
	srv := faultnode.Start(t, faultnode.Mute, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := upstream.Dial(ctx, srv.URL("ws", secretPath), upstream.Timeouts{Dial: time.Hour})
		done <- err
	}()
	for srv.Seen("") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("dial: %v, want context.Canceled", err)
		}
		checkQuiet(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Dial ignored the cancellation")
	}
}

func TestTimeoutsDefaults(t *testing.T) {
	got := upstream.Timeouts{Read: time.Second}.WithDefaults()
	want := upstream.Timeouts{Dial: upstream.DefaultDial, Read: time.Second, Estimate: upstream.DefaultEstimate, Broadcast: upstream.DefaultBroadcast}
	if got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
	for method, k := range map[string]upstream.Kind{"eth_estimateGas": upstream.Estimate, "eth_sendRawTransaction": upstream.Broadcast,
		"eth_call": upstream.Read, "eth_getBalance": upstream.Read} {
		if upstream.KindOf(method) != k {
			t.Errorf("KindOf(%s) = %s, want %s", method, upstream.KindOf(method), k)
		}
	}
}
