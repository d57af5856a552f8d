package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentkeys/agentkeys/internal/home"
)

func TestConfigSetGetUnset(t *testing.T) {
	setInitEnv(t)
	dir := filepath.Join(t.TempDir(), "ak")
	const upstream = "https://mainnet.example.io/v3/0123456789abcdef"
	if _, errOut, code := run(t, "", "init", "--home", dir, "--rpc-upstream", upstream); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	cert := filepath.Join(t.TempDir(), "cert.pem")
	writeFile(t, cert, "not checked until serve loads it")
	steps := [][]string{
		{"set", "listen", "0.0.0.0:9000"},
		{"set", "admin-listen", "127.0.0.1:9001"},
		{"set", "trusted-proxy", "10.0.0.0/8, 192.0.2.7"},
		{"set", "tls-cert", cert},
		{"set", "stuck-after", "90s"},
		{"set", "node-read-timeout", "5000ms"},
		{"set", "node-broadcast-timeout", "1m"},
	}
	for _, s := range steps {
		if out, errOut, code := run(t, "", append([]string{"config", "--home", dir}, s...)...); code != 0 || !strings.Contains(out, "saved") {
			t.Fatalf("config %v: exit %d: %s %s", s, code, out, errOut)
		}
	}
	out, errOut, code := run(t, "", "config", "get", "--home", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("get: %s", errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{
		"rpc-upstream": upstream, "listen": "0.0.0.0:9000", "admin-listen": "127.0.0.1:9001",
		"trusted-proxy": []any{"10.0.0.0/8", "192.0.2.7"}, "tls-cert": cert, "tls-key": "", "stuck-after": "1m30s",
		"node-dial-timeout": "", "node-read-timeout": "5s", "node-estimate-timeout": "", "node-broadcast-timeout": "1m0s",
	}
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Errorf("config get:\n got %s\nwant %s", a, b)
	}
	if out, _, _ := run(t, "", "config", "get", "trusted-proxy", "--home", dir); out != "10.0.0.0/8,192.0.2.7\n" {
		t.Errorf("get trusted-proxy: %q", out)
	}
	out, _, _ = run(t, "", "config", "get", "rpc-upstream", "--home", dir, "-o", "json")
	var one map[string]string
	if err := json.Unmarshal([]byte(out), &one); err != nil || len(one) != 1 || one["rpc-upstream"] != upstream {
		t.Errorf("get rpc-upstream -o json: %q", out)
	}
	for _, k := range []string{"listen", "trusted-proxy", "rpc-upstream", "node-broadcast-timeout"} {
		if _, errOut, code := run(t, "", "config", "unset", k, "--home", dir); code != 0 {
			t.Fatalf("unset %s: %s", k, errOut)
		}
	}
	c, err := home.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != home.DefaultListen || c.TrustedProxies != nil || c.UpstreamRPC != "" || c.AdminListen != "127.0.0.1:9001" ||
		len(c.NodeTimeouts) != 1 || c.NodeTimeouts["read"] != "5s" {
		t.Errorf("after unset: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	setInitEnv(t)
	dir := filepath.Join(t.TempDir(), "ak")
	initHome(t, dir)
	before, _ := home.ReadConfig(dir)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"set", "colour", "blue"}, `unknown setting "colour": expected one of rpc-upstream, listen, admin-listen, trusted-proxy, tls-cert, tls-key, stuck-after, node-dial-timeout, node-read-timeout, node-estimate-timeout, node-broadcast-timeout`},
		{[]string{"set", "node-read-timeout", "1ms"}, `node-read-timeout: expected a duration from 100ms to 10m0s like 10s or 500ms, got "1ms"`},
		{[]string{"set", "node-dial-timeout", "forever"}, `node-dial-timeout: expected a duration`},
		{[]string{"set", "stuck-after", "1s"}, `stuck-after: expected a duration from 10s to 24h0m0s like 2m or 90s, got "1s"`},
		{[]string{"set", "stuck-after", "soon"}, `stuck-after: expected a duration`},
		{[]string{"set", "listen", "localhost"}, `listen: expected host:port like 127.0.0.1:8645, got "localhost"`},
		{[]string{"set", "admin-listen", "127.0.0.1:99999"}, "admin-listen: expected host:port"},
		{[]string{"set", "trusted-proxy", "10.0.0.0/33"}, `trusted proxy "10.0.0.0/33": expected a CIDR like 10.0.0.0/8 or an IP address`},
		{[]string{"set", "trusted-proxy", " , "}, "trusted-proxy: expected CIDRs or IP addresses"},
		{[]string{"set", "tls-key", filepath.Join(dir, "missing.pem")}, "tls-key: expected a readable PEM file"},
		{[]string{"set", "tls-key", dir}, "is a directory"},
		{[]string{"set", "rpc-upstream", "localhost:8545"}, "rpc-upstream: expected"},
		{[]string{"set", "listen"}, "config set takes KEY VALUE (2 arguments), got 1"},
		{[]string{"get", "nope"}, `unknown setting "nope"`},
		{[]string{"unset", "nope"}, `unknown setting "nope"`},
		{[]string{"get", "-o", "yaml"}, "--output: expected one of"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"config", "--home", dir}, tt.args...)...)
			if code == 0 {
				t.Fatalf("succeeded: %s", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
		})
	}
	if after, _ := home.ReadConfig(dir); mustJSON(t, after) != mustJSON(t, before) {
		t.Error("a refused config set changed config.json")
	}
	if _, errOut, code := run(t, "", "config", "get", "--home", filepath.Join(dir, "nothing")); code == 0 || !strings.Contains(errOut, "run agentkeys init") {
		t.Errorf("get on no home: %s", errOut)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
