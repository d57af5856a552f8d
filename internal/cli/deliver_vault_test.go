package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/agentkeys/agentkeys/client"
)

// startVault starts a real Vault dev server (the binary $AGENTKEYS_VAULT,
// which .ci/run builds at a pinned version) on a free loopback port, with
// KV v2 at secret/, and points VAULT_ADDR and VAULT_TOKEN at it. Without
// the binary the test is skipped, and fails in CI.
func startVault(t *testing.T) *vault.Client {
	t.Helper()
	bin := os.Getenv("AGENTKEYS_VAULT")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTKEYS_VAULT is not set: .ci/run builds Vault and sets it")
		}
		t.Skip("no Vault: set AGENTKEYS_VAULT to a vault binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var b [16]byte
	rand.Read(b[:])
	root := "root-" + hex.EncodeToString(b[:])
	cmd := exec.Command(bin, "server", "-dev", "-dev-root-token-id="+root, "-dev-listen-address="+addr, "-dev-no-store-token")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "VAULT_ADDR=", "VAULT_TOKEN=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Setenv(vault.EnvVaultAddress, "http://"+addr)
	t.Setenv(vault.EnvVaultToken, root)
	cfg := vault.DefaultConfig()
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, err := c.KVv2("secret").Get(context.Background(), "probe"); err == nil || strings.Contains(err.Error(), "not found") {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("vault dev server did not come up: %s", logs.String())
		}
	}
}

// TestDeliverToVault grants a key delivered to a KV v2 secret of a real
// Vault: the secret holds the credential and the endpoint, no output shows
// the token, the agent reading the secret can act with it, revoke
// --clear-delivery deletes the secret with all its versions, and a secret
// since rewritten with another credential is left alone.
func TestDeliverToVault(t *testing.T) {
	vc := startVault(t)
	dir, sb := startDeliverySandbox(t)

	stdout, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "vaulted", "--profile", "swap-only",
		"--deliver", "vault:secret/agents/vaulted")
	if code != 0 {
		t.Fatalf("grant: exit %d: %s", code, stderr)
	}
	if anyToken.MatchString(stdout + stderr) {
		t.Fatalf("a delivered grant printed a token:\n%s%s", stdout, stderr)
	}
	if !strings.Contains(stdout, "delivered:  vault:secret/agents/vaulted") {
		t.Errorf("grant output does not name the secret:\n%s", stdout)
	}
	id := regexp.MustCompile(`key_id:\s+(\S+)`).FindStringSubmatch(stdout)[1]

	// The agent's side: read the secret, act with what it holds.
	s, err := vc.KVv2("secret").Get(context.Background(), "agents/vaulted")
	if err != nil {
		t.Fatal(err)
	}
	token, _ := s.Data["AGENTKEYS_TOKEN"].(string)
	rpcURL, _ := s.Data["AGENTKEYS_RPC_URL"].(string)
	if !strings.HasPrefix(token, "ak_"+id+"_") || rpcURL != sb.Info.RPCURL {
		t.Fatalf("secret holds a token of %d bytes for another key, or endpoint %q", len(token), rpcURL)
	}
	c, err := client.Dial(context.Background(), rpcURL, token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err := c.Permissions(context.Background()); err != nil || p.KeyID != id {
		t.Fatalf("the delivered credential: %+v, %v", p, err)
	}

	stdout, stderr, code = run(t, "", "key", "revoke", "--home", dir, id, "--clear-delivery")
	if code != 0 || !strings.Contains(stdout, id+" cleared: vault:secret/agents/vaulted") {
		t.Fatalf("revoke --clear-delivery: exit %d: %s %s", code, stdout, stderr)
	}
	if _, err := vc.KVv2("secret").GetMetadata(context.Background(), "agents/vaulted"); err == nil {
		t.Error("the secret's metadata (its old versions) survived --clear-delivery")
	}
	if _, err := c.Permissions(context.Background()); err == nil {
		t.Error("the revoked credential still works")
	}

	// A secret rewritten since the delivery is not this key's to delete.
	stdout, _, code = run(t, "", "key", "grant", "--home", dir, "--agent", "vaulted2", "--profile", "swap-only", "--deliver", "vault:secret/agents/other")
	if code != 0 {
		t.Fatalf("second grant: %s", stdout)
	}
	id2 := regexp.MustCompile(`key_id:\s+(\S+)`).FindStringSubmatch(stdout)[1]
	if _, err := vc.KVv2("secret").Put(context.Background(), "agents/other", map[string]any{"AGENTKEYS_TOKEN": "ak_someoneelse_x"}); err != nil {
		t.Fatal(err)
	}
	stdout, _, _ = run(t, "", "key", "revoke", "--home", dir, id2, "--clear-delivery")
	if !strings.Contains(stdout, "left in place: it no longer holds this key's credential") {
		t.Errorf("revoke of a rewritten secret:\n%s", stdout)
	}
	if _, err := vc.KVv2("secret").Get(context.Background(), "agents/other"); err != nil {
		t.Errorf("the rewritten secret was deleted: %v", err)
	}
}

// TestDeliverToVaultErrors: a malformed path, a Vault not named by the
// environment and a token that may not write are refused with what to
// do, and the key of a failed delivery is revoked.
func TestDeliverToVaultErrors(t *testing.T) {
	startVault(t)
	dir, _ := startDeliverySandbox(t)
	for _, bad := range []string{"vault:secret", "vault:/secret/x", "vault:secret/../x", "vault:secret//x", "vault:secret/a b"} {
		if _, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "v", "--profile", "swap-only", "--deliver", bad); code == 0 || !strings.Contains(stderr, "expected MOUNT/PATH") {
			t.Errorf("%s: exit %d: %s", bad, code, stderr)
		}
	}
	t.Setenv(vault.EnvVaultToken, "")
	if _, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "v", "--profile", "swap-only", "--deliver", "vault:secret/x"); code == 0 || !strings.Contains(stderr, "set VAULT_TOKEN") {
		t.Errorf("no VAULT_TOKEN: exit %d: %s", code, stderr)
	}
	// A token Vault does not know: the grant is undone.
	t.Setenv(vault.EnvVaultToken, "hvs.not-a-token")
	stdout, stderr, code := run(t, "", "key", "grant", "--home", dir, "--agent", "v", "--profile", "swap-only", "--deliver", "vault:secret/x")
	if code == 0 || !strings.Contains(stderr, "was revoked, so no working credential is left") || !strings.Contains(stderr, "403") {
		t.Errorf("a token that may not write: exit %d: %s %s", code, stdout, stderr)
	}
	if anyToken.MatchString(stdout + stderr) {
		t.Error("a failed vault delivery printed a token")
	}
}
