package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/agentkeys/agentkeys/internal/bound"
)

// Vault delivery: vault:MOUNT/PATH writes the credential and the agents'
// endpoint as the two keys AGENTKEYS_TOKEN and AGENTKEYS_RPC_URL of a KV
// version 2 secret, through HashiCorp's client with the standard
// VAULT_ADDR and VAULT_TOKEN (and VAULT_CACERT, VAULT_NAMESPACE, … as the
// client reads them).

// vaultPath is MOUNT/PATH: segments of letters, digits and ._- (no empty
// segment, no . or ..), at least two.
var vaultPath = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$`)

// vaultTimeout bounds one delivery or clearing round trip.
const vaultTimeout = 30 * time.Second

// parseVaultTarget checks a vault: target and that the environment names
// a Vault, before anything is granted.
func parseVaultTarget(arg string) (target, error) {
	if !vaultPath.MatchString(arg) || strings.Contains(arg, "..") {
		return target{}, fmt.Errorf("--deliver vault: expected MOUNT/PATH of a KV v2 secret, like vault:secret/agents/bot (letters, digits and ._- between slashes), got %s", bound.Quote(arg))
	}
	for _, v := range []string{vault.EnvVaultAddress, vault.EnvVaultToken} {
		if os.Getenv(v) == "" {
			return target{}, fmt.Errorf("--deliver vault:%s: set %s (the Vault's address and a token that may write the secret)", arg, v)
		}
	}
	return target{Kind: "vault", Path: arg}, nil
}

// vaultKV is the KV v2 secret t names, through a client configured from
// the environment.
func vaultKV(t target) (*vault.KVv2, string, error) {
	mount, path, _ := strings.Cut(t.Path, "/")
	cfg := vault.DefaultConfig()
	if cfg.Error != nil {
		return nil, "", fmt.Errorf("vault: %w", cfg.Error)
	}
	cfg.Timeout = vaultTimeout
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("vault: %w", err)
	}
	return c.KVv2(mount), path, nil
}

// deliverVault writes a new version of the secret.
func deliverVault(ctx context.Context, t target, token, rpcURL string) error {
	kv, path, err := vaultKV(t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, vaultTimeout)
	defer cancel()
	if _, err := kv.Put(ctx, path, map[string]any{"AGENTKEYS_TOKEN": token, "AGENTKEYS_RPC_URL": rpcURL}); err != nil {
		return fmt.Errorf("vault: %s", bound.Escape(bound.Text(strings.ReplaceAll(err.Error(), token, "[redacted]"), 500)))
	}
	return nil
}

// clearVault deletes the secret with all its versions, if it still holds
// keyID's credential.
func clearVault(ctx context.Context, t target, keyID string) (cleared bool, note string, retry bool) {
	kv, path, err := vaultKV(t)
	if err != nil {
		return false, err.Error(), true
	}
	ctx, cancel := context.WithTimeout(ctx, vaultTimeout)
	defer cancel()
	s, err := kv.Get(ctx, path)
	switch {
	case errors.Is(err, vault.ErrSecretNotFound):
		return true, "already gone", false
	case err != nil:
		return false, "vault: " + bound.Escape(bound.Text(err.Error(), 500)), true
	}
	if v, _ := s.Data["AGENTKEYS_TOKEN"].(string); !strings.HasPrefix(v, "ak_"+keyID+"_") {
		return false, "left in place: it no longer holds this key's credential", false
	}
	if err := kv.DeleteMetadata(ctx, path); err != nil {
		return false, "vault: " + bound.Escape(bound.Text(err.Error(), 500)), true
	}
	return true, "", false
}
