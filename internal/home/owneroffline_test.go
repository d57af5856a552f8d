package home

import (
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestOwnerOfflineHome: init with an owner address keeps no owner key: the
// config names the owner and a relayer, the only key sealed is the
// relayer's (kind relayer), WalletKey refuses with ErrOwnerOffline, and it
// survives reopening. An imported key and an owner address exclude each
// other.
func TestOwnerOfflineHome(t *testing.T) {
	owner := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	o := opts(t)
	o.OwnerAddress = owner
	h, _ := initHome(t, o)
	if !h.Config.OwnerOffline || h.Config.WalletAddress != owner.Hex() || h.Config.WalletKeyID != "" || h.Config.RelayerAddress == "" {
		t.Fatalf("config %+v", h.Config)
	}
	if _, err := h.WalletKey(t.Context()); !errors.Is(err, ErrOwnerOffline) {
		t.Fatalf("WalletKey: %v, want ErrOwnerOffline", err)
	}
	r, err := h.RelayerKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Address().Hex() != h.Config.RelayerAddress || r.Address() == owner {
		t.Fatalf("relayer key %s, config %s, owner %s", r.Address().Hex(), h.Config.RelayerAddress, owner.Hex())
	}
	k, err := h.Store.GetKey(t.Context(), h.Config.RelayerKeyID)
	if err != nil || k.Kind != store.KeyKindRelayer {
		t.Fatalf("relayer's stored key: %+v, %v", k, err)
	}
	dir := h.Dir
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := Open(t.Context(), dir, []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if r2, err := h2.RelayerKey(t.Context()); err != nil || r2.Address() != r.Address() {
		t.Fatalf("relayer after reopening: %v", err)
	}

	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	both := opts(t)
	both.OwnerAddress, both.ImportKey = owner, key
	if _, _, err := Init(t.Context(), t.TempDir(), both); err == nil || !strings.Contains(err.Error(), "owner address") {
		t.Fatalf("an owner address and an imported key: %v", err)
	}
}
