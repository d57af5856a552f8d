package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/client"
	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/service"
)

// secretFile fails the test unless path is a regular file of mode 0600, and
// returns its content.
func secretFile(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %s, want a regular file of mode 0600", path, fi.Mode())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dirNames lists a directory, to show no temporary file was left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// startDeliverySandbox starts a sandbox that the CLI finds through its
// home alone, endpoint included.
func startDeliverySandbox(t *testing.T) (string, *sandbox.Sandbox) {
	t.Helper()
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	t.Setenv("AGENTKEYS_RPC_URL", "")
	return startSandbox(t)
}

var anyToken = regexp.MustCompile(`ak_[a-z0-9]+_[A-Za-z0-9_-]+`)

// TestDeliverToEveryTarget grants a key with an env file, a token file
// and a command as targets: each holds the credential (the command got it
// on its standard input, not in its environment), no output shows it, the
// delivered credential works against the daemon, and revoke
// --clear-delivery removes the files and names the command's store.
func TestDeliverToEveryTarget(t *testing.T) {
	dir, sb := startDeliverySandbox(t)
	out := t.TempDir()
	envFile, tokenFile := filepath.Join(out, "agent.env"), filepath.Join(out, "token")
	stdinFile, envDump := filepath.Join(out, "stdin"), filepath.Join(out, "environ")
	// An old file at the env file's path, hard-linked: an atomic
	// replacement leaves the link's content as it was.
	if err := os.WriteFile(envFile, []byte("OLD=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(envFile, filepath.Join(out, "old-link")); err != nil {
		t.Fatal(err)
	}
	command := "env > '" + envDump + "'; cat > '" + stdinFile + "'; echo stored"

	stdout, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "delivered", "--profile", "swap-only",
		"--deliver", "env-file:"+envFile, "--deliver", "file:"+tokenFile, "--deliver", "exec:"+command)
	if code != 0 {
		t.Fatalf("grant: exit %d: %s", code, stderr)
	}
	if anyToken.MatchString(stdout + stderr) {
		t.Fatalf("a delivered grant printed a token:\n%s%s", stdout, stderr)
	}
	keyID := regexp.MustCompile(`key_id:\s+(\S+)`).FindStringSubmatch(stdout)
	if keyID == nil {
		t.Fatalf("no key_id in:\n%s", stdout)
	}
	id := keyID[1]
	for _, want := range []string{"delivered:  env-file:" + envFile, "delivered:  file:" + tokenFile, "delivered:  exec:" + command, "rpc_url:    " + sb.Info.RPCURL} {
		if !strings.Contains(stdout, want) {
			t.Errorf("grant output lacks %q:\n%s", want, stdout)
		}
	}

	token := strings.TrimSuffix(secretFile(t, tokenFile), "\n")
	if !strings.HasPrefix(token, "ak_"+id+"_") || strings.Contains(token, "\n") {
		t.Fatalf("token file holds %d bytes that are not key %s's credential", len(token), id)
	}
	if got, want := secretFile(t, envFile), "AGENTKEYS_TOKEN="+token+"\nAGENTKEYS_RPC_URL="+sb.Info.RPCURL+"\n"; got != want {
		t.Errorf("env file holds\n%q\nwant\n%q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "old-link")); string(b) != "OLD=1\n" {
		t.Errorf("the old env file was rewritten in place (its hard link now holds %q), not replaced", b)
	}
	if b, _ := os.ReadFile(stdinFile); string(b) != token {
		t.Errorf("the command's standard input was %d bytes, want the token alone", len(b))
	}
	environ, err := os.ReadFile(envDump)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(environ), token) || strings.Contains(string(environ), sb.AdminToken) {
		t.Errorf("the command's environment holds a credential")
	}
	want := []string{"agent.env", "environ", "old-link", "stdin", "token"}
	if got := dirNames(t, out); !slices.Equal(got, want) {
		t.Errorf("target directory holds %v, want %v (no temporary files)", got, want)
	}

	// The agent reads the env file and acts with it.
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(secretFile(t, envFile)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	c, err := client.Dial(context.Background(), vars[client.EnvRPCURL], vars[client.EnvToken])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err := c.Permissions(context.Background()); err != nil || p.KeyID != id {
		t.Fatalf("the delivered credential: permissions %+v, %v", p, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "deliveries", id+".json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("delivery record: %v, %v", fi, err)
	} else if b, _ := os.ReadFile(filepath.Join(dir, "deliveries", id+".json")); strings.Contains(string(b), token) {
		t.Fatal("the delivery record holds the token")
	}

	stdout, stderr, code = run(t, "", "key", "revoke", "--home", dir, id, "--clear-delivery")
	if code != 0 {
		t.Fatalf("revoke --clear-delivery: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"revoked " + id, id + " cleared: env-file:" + envFile, id + " cleared: file:" + tokenFile,
		id + " not cleared: exec:" + command + " (a command's delivery is not undone"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("revoke output lacks %q:\n%s", want, stdout)
		}
	}
	for _, p := range []string{envFile, tokenFile, filepath.Join(dir, "deliveries", id+".json")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after --clear-delivery (%v)", p, err)
		}
	}
	if _, err := c.Permissions(context.Background()); err == nil {
		t.Error("the revoked credential still works")
	}
}

// TestDeliverJSONAndRewrittenFile: -o json shows where the credential
// went and no token; a file since rewritten with another key's
// credential is left in place by --clear-delivery.
func TestDeliverJSONAndRewrittenFile(t *testing.T) {
	dir, _ := startDeliverySandbox(t)
	t.Setenv("HOME", t.TempDir())
	path := filepath.Join(os.Getenv("HOME"), "token")
	first := grantKey(t, dir, "--agent", "one", "--profile", "read-only", "--deliver", "file:~/token", "--rpc-url", "https://keys.example.com/rpc")
	if first.Token != "" {
		t.Fatal("a delivered grant's JSON holds the token")
	}
	stdout, _, code := run(t, "", "key", "grant", "--home", dir, "-o", "json", "--agent", "two", "--profile", "read-only", "--deliver", "file:"+path, "--rpc-url", "https://keys.example.com/rpc")
	var second struct {
		KeyID     string   `json:"key_id"`
		Delivered []string `json:"delivered"`
		RPCURL    string   `json:"rpc_url"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &second) != nil || anyToken.MatchString(stdout) {
		t.Fatalf("grant -o json (exit %d):\n%s", code, stdout)
	}
	if !slices.Equal(second.Delivered, []string{"file:" + path}) || second.RPCURL != "https://keys.example.com/rpc" {
		t.Errorf("grant -o json = %+v", second)
	}
	stdout, stderr, code := run(t, "", "key", "revoke", "--home", dir, first.KeyID, "--clear-delivery")
	if code != 0 || !strings.Contains(stdout, first.KeyID+" not cleared: file:"+path+" (left in place: it no longer holds this key's credential)") {
		t.Fatalf("revoke (exit %d):\n%s%s", code, stdout, stderr)
	}
	if !strings.HasPrefix(secretFile(t, path), "ak_"+second.KeyID+"_") {
		t.Error("--clear-delivery of the first key touched the second key's file")
	}
	stdout, _, code = run(t, "", "key", "revoke", "--home", dir, "--all", "--clear-delivery", "-o", "json")
	var all struct {
		Revoked int                         `json:"revoked"`
		Cleared map[string][]map[string]any `json:"cleared_delivery"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &all) != nil || all.Revoked != 1 || len(all.Cleared[second.KeyID]) != 1 || all.Cleared[second.KeyID][0]["cleared"] != true {
		t.Fatalf("revoke --all --clear-delivery (exit %d):\n%s", code, stdout)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("the second key's file is still there: %v", err)
	}
}

// TestDeliverFailures: a target that cannot be written is refused before
// any key exists; a delivery that fails after the grant revokes the key
// and removes what was written, and the command's output is shown with
// the token redacted.
func TestDeliverFailures(t *testing.T) {
	dir, _ := startDeliverySandbox(t)
	t.Setenv("VAULT_ADDR", "")
	out := t.TempDir()
	if err := os.Symlink(filepath.Join(out, "elsewhere"), filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	before := []string{"link"}
	refusedEarly := []struct {
		target, want string
	}{
		{"env-file:" + filepath.Join(out, "link"), "is a symbolic link"},
		{"file:" + filepath.Join(out, "missing", "token"), "does not exist"},
		{"file:" + out, "is not a regular file"},
		{"aws:secret/agent", `unknown target "aws": expected env-file:PATH, file:PATH, vault:MOUNT/PATH or exec:COMMAND`},
		{"exec:", "expected env-file:PATH"},
		{"vault:secret/agent", "set VAULT_ADDR"},
	}
	for _, tt := range refusedEarly {
		_, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "x", "--profile", "read-only", "--deliver", tt.target)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("--deliver %s: exit %d: %s, want %q", tt.target, code, stderr, tt.want)
		}
	}
	for rpcURL, want := range map[string]string{
		"http://h/rpc?key=a&b":    "--rpc-url: expected an http(s) URL",
		"ftp://h/rpc":             "--rpc-url: expected an http(s) URL",
		"https://u:pw@h:8545/rpc": "must not carry a user or password",
	} {
		_, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "x", "--profile", "read-only", "--deliver", "file:"+filepath.Join(out, "t"), "--rpc-url", rpcURL)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("--rpc-url %s: exit %d: %s, want %q", rpcURL, code, stderr, want)
		}
	}
	if list, _, _ := run(t, "", "key", "list", "--home", dir, "-o", "json"); strings.Join(strings.Fields(list), "") != `{"keys":[]}` {
		t.Fatalf("a refused delivery granted a key:\n%s", list)
	}

	// The command fails after echoing its input: the key is revoked, the
	// file written first is removed, and the token is nowhere in the output.
	tokenFile := filepath.Join(out, "token")
	stdout, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "x", "--profile", "read-only",
		"--deliver", "file:"+tokenFile, "--deliver", "exec:echo \"storing $(cat)\" >&2; exit 3")
	if code == 0 {
		t.Fatalf("a failing command: exit 0:\n%s", stdout)
	}
	for _, want := range []string{"deliver to exec:", "exit status 3", "storing [redacted]", "was revoked, so no working credential is left"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error lacks %q: %s", want, stderr)
		}
	}
	if anyToken.MatchString(stdout + stderr) {
		t.Fatalf("the failure printed a token:\n%s%s", stdout, stderr)
	}
	var page struct {
		Keys []struct {
			KeyID  string `json:"key_id"`
			Status string `json:"status"`
		} `json:"keys"`
	}
	list, _, _ := run(t, "", "key", "list", "--home", dir, "-o", "json")
	if json.Unmarshal([]byte(list), &page) != nil || len(page.Keys) != 1 || page.Keys[0].Status != "revoked" {
		t.Fatalf("after the failed delivery the keys are:\n%s", list)
	}
	if got := dirNames(t, out); !slices.Equal(got, before) {
		t.Errorf("after the failed delivery the directory holds %v, want %v", got, before)
	}
	if ids, _ := deliveredKeys(dir); len(ids) != 0 {
		t.Errorf("the failed delivery is still remembered: %v", ids)
	}
}

// TestDeliveredEndpointOfAServedHome: without --rpc-url, a served home's
// endpoint comes from its listen setting, a wildcard address reached
// through loopback; a port chosen at start cannot be known and asks for
// --rpc-url.
func TestDeliveredEndpointOfAServedHome(t *testing.T) {
	dir, _, _ := testHome(t)
	t.Setenv("AGENTKEYS_RPC_URL", "")
	tests := []struct{ listen, want, err string }{
		{"0.0.0.0:9545", "http://127.0.0.1:9545/rpc", ""},
		{"10.1.2.3:8545", "http://10.1.2.3:8545/rpc", ""},
		{"127.0.0.1:0", "", "--deliver needs the agents' endpoint: pass --rpc-url"},
	}
	for _, tt := range tests {
		if _, stderr, code := run(t, "", "config", "set", "--home", dir, "listen", tt.listen); code != 0 {
			t.Fatalf("config set listen %s: %s", tt.listen, stderr)
		}
		got, err := agentsURL("", dir)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("listen %s: endpoint %q, %v; want %q, %q", tt.listen, got, err, tt.want, tt.err)
		}
	}
}

// TestUndoGrant: a delivery interrupted (its context cancelled) still
// revokes the key; and if the revocation itself fails, the error names
// the command that finishes the job, without the token.
func TestUndoGrant(t *testing.T) {
	dir, sb := startDeliverySandbox(t)
	g, err := sb.Service.GrantFrom(context.Background(), service.GrantSpec{Agent: "interrupted", Profile: "read-only"})
	if err != nil {
		t.Fatal(err)
	}
	id, token := g.Grant.ID, g.Token.Reveal()
	c := &admin.Client{URL: sb.Info.AdminURL, Token: sb.AdminToken}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the owner pressed Ctrl-C while the command ran
	err = deliverGrant(ctx, c, dir, id, token, []target{{Kind: "exec", Cmd: "cat > /dev/null"}}, "http://127.0.0.1:1/rpc", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "key "+id+" was revoked") || strings.Contains(err.Error(), token) {
		t.Fatalf("interrupted delivery: %v", err)
	}
	if info, err := sb.Service.GetGrant(context.Background(), id); err != nil || info.Status != service.StatusRevoked {
		t.Fatalf("after an interrupted delivery the key is %q (%v), want revoked", info.Status, err)
	}

	unreachable := &admin.Client{URL: "http://127.0.0.1:1", Token: "akadm_unused"}
	err = undoGrant(context.Background(), unreachable, dir, "abc123", nil, errors.New("deliver to file:/x: disk full"))
	want := "deliver to file:/x: disk full; key abc123 was granted but could not be revoked"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run agentkeys key revoke abc123 --clear-delivery") {
		t.Errorf("undo with the daemon gone: %v, want %q and the command to run", err, want)
	}
}
