package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
)

// TestBench runs the bench briefly and checks what it prints, never its
// figures beyond "requests were answered": timing depends on the machine.
func TestBench(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out, errOut, code := run(t, "", "bench", "--agents", "1,2", "--duration", "200ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("output is not a JSON array of objects: %v\n%s", err, out)
	}
	var steps []string
	for _, r := range results {
		for _, field := range []string{"agents", "method", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "ceiling_per_s",
			"node_calls_per_request", "writes_per_commit",
			"seeded_grants", "seeded_records", "startup_s", "feed_catch_up_s", "list_keys_ms", "rss_mb", "peak_rss_mb"} {
			if _, ok := r[field]; !ok {
				t.Errorf("result %v lacks %q", r, field)
			}
		}
		steps = append(steps, fmt.Sprintf("%v@%v", r["method"], r["agents"]))
		if r["errors"] != float64(0) {
			t.Errorf("%v agents %v: %v errors, first: %v", r["agents"], r["method"], r["errors"], r["first_error"])
		}
		for _, field := range []string{"throughput_per_s", "p50_ms", "ceiling_per_s", "startup_s", "list_keys_ms", "rss_mb", "peak_rss_mb"} {
			if v, _ := r[field].(float64); v <= 0 {
				t.Errorf("%v agents %v: %s = %v, want > 0", r["agents"], r["method"], field, r[field])
			}
		}
		// Keep-alive: each agent keeps its connection for the whole step.
		// Agents starting together may dial a few more (Go's client dials
		// while it waits for a busy connection to come back), never one
		// per request.
		if c, ok := r["connections"].(float64); !ok || c > 2*r["agents"].(float64) {
			t.Errorf("%v agents %v: opened %v connections in %v requests, want about one per agent", r["agents"], r["method"], r["connections"], r["requests"])
		}
		// The agents give gas: signing makes no node call (fees and the
		// nonce floor come from the followed head; the follower's own
		// reads, about one a second, are all that is counted). A fill
		// reading the node would be at least two calls per request.
		if r["method"] == "eth_signTransaction" {
			if c, _ := r["node_calls_per_request"].(float64); c >= 1 {
				t.Errorf("%v agents eth_signTransaction: %v node calls per request, want none on the signing path", r["agents"], c)
			}
		}
		if w, _ := r["writes_per_commit"].(float64); w < 1 {
			t.Errorf("%v agents %v: writes_per_commit %v, want at least 1", r["agents"], r["method"], r["writes_per_commit"])
		}
		if r["p50_ms"].(float64) > r["p95_ms"].(float64) || r["p95_ms"].(float64) > r["p99_ms"].(float64) {
			t.Errorf("%v agents %v: percentiles out of order: %v", r["agents"], r["method"], r)
		}
	}
	want := []string{"eth_signTransaction@1", "eth_sendTransaction@1", "eth_signTransaction@2", "eth_sendTransaction@2"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// The throwaway home is gone.
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range left {
		if strings.HasPrefix(d.Name(), "agentkeys-bench-") {
			t.Errorf("the bench left its home %s behind", d.Name())
		}
	}
}

// TestBenchSeeded: with --grants and --records the run's store holds
// them (each row says so), and the throwaway home is removed as ever.
func TestBenchSeeded(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out, errOut, code := run(t, "", "bench", "--agents", "1", "--method", "sign", "--duration", "100ms", "--grants", "40", "--records", "300", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 {
		t.Fatalf("output: %v\n%s", err, out)
	}
	r := results[0]
	if r["seeded_grants"] != float64(40) || r["seeded_records"] != float64(300) || r["errors"] != float64(0) {
		t.Errorf("result %v, want 40 seeded keys, 300 seeded records and no errors", r)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the bench left %v behind", left)
	}
}

func TestBenchText(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	out, errOut, code := run(t, "", "bench", "--agents", "1", "--duration", "100ms", "--method", "sign")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"agents", "p99 ms", "node calls/req", "writes/commit", "of ceiling", "eth_signTransaction", "ceiling:", "signatures/s",
		"store: 0 seeded keys, 0 seeded audit records; daemon started in ", "GET /v1/grants?limit=100", "RSS MB", "memory: peak "} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "eth_sendTransaction") {
		t.Errorf("--method sign ran eth_sendTransaction:\n%s", out)
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--agents", "1,x"}, `--agents: expected comma-separated counts from 1 to 4096 like 1,8,64, got "x"`},
		{[]string{"--agents", "0"}, `--agents: expected comma-separated counts from 1 to 4096 like 1,8,64, got "0"`},
		{[]string{"--agents", ""}, `--agents: expected comma-separated counts`},
		{[]string{"--agents", "5000"}, `--agents: expected comma-separated counts from 1 to 4096`},
		{[]string{"--duration", "0s"}, `--duration: expected a positive duration like 10s, got 0s`},
		{[]string{"--duration", "-1s"}, `--duration: expected a positive duration`},
		{[]string{"--duration", "ten"}, `invalid argument "ten" for "--duration"`},
		{[]string{"--method", "mint"}, `--method: expected sign, send or both, got "mint"`},
		{[]string{"-o", "yaml"}, `--output: expected one of [text json], got "yaml"`},
		{[]string{"--grants", "-1"}, `--grants, --records: expected 0 to 10000000 keys and 0 to 100000000 records`},
		{[]string{"--records", "10"}, `--records: the records are the seeded keys' requests: give --grants too`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			out, errOut, code := run(t, "", append([]string{"bench"}, tc.args...)...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want exit 1 and %q", code, errOut, tc.want)
			}
			if out != "" {
				t.Errorf("printed %q on bad flags", out)
			}
		})
	}
}

// TestBenchEstimate: with --estimate the agents leave gas out, and the
// daemon asks the node for each request's estimate.
func TestBenchEstimate(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	out, errOut, code := run(t, "", "bench", "--agents", "1", "--duration", "200ms", "--method", "sign", "--estimate", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if c, _ := results[0]["node_calls_per_request"].(float64); c < 1 {
		t.Errorf("--estimate: %v node calls per request, want at least the estimate's one", c)
	}
}

// TestBenchOnPostgres: --store runs the same load with the throwaway
// home's store in an empty PostgreSQL database, durable there, and
// refuses a database that already holds a home.
func TestBenchOnPostgres(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dsn := pgtest.DSN(t)
	out, errOut, code := run(t, "", "bench", "--store", dsn, "--agents", "2", "--duration", "200ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 2 {
		t.Fatalf("output: %v\n%s", err, out)
	}
	for _, r := range results {
		if r["errors"] != float64(0) || r["requests"].(float64) < 1 {
			t.Errorf("%v: %v requests, %v errors (%v)", r["method"], r["requests"], r["errors"], r["first_error"])
		}
		// PostgreSQL commits through its group-commit writer too.
		if w, _ := r["writes_per_commit"].(float64); w < 1 {
			t.Errorf("%v: writes_per_commit %v on PostgreSQL; want its writer's figure, at least 1", r["method"], r["writes_per_commit"])
		}
	}
	// The first run left its home there: a second is refused, not mixed in.
	_, errOut, code = run(t, "", "bench", "--store", dsn, "--agents", "1", "--duration", "100ms", "--method", "sign")
	if code == 0 {
		t.Fatal("a second bench on the same database ran")
	}
	if !strings.Contains(errOut, "already") {
		t.Errorf("refusal does not say the database holds a home: %s", errOut)
	}
}
