package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agentkeys/agentkeys/internal/home"
)

func newInitCmd(e *env) *cobra.Command {
	var importEnv, keystoreFile, upstream, output, ownerAddress string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the agentkeys home: wallet key, passphrase and admin credential",
		Long: "Create the agentkeys home (--home, $AGENTKEYS_HOME or ~/.agentkeys): a wallet key sealed under a key\n" +
			"derived from your passphrase ($AGENTKEYS_PASSPHRASE, or asked for without echo), and an admin\n" +
			"credential that is printed once and never again. An existing home is never overwritten.\n\n" +
			"By default a fresh wallet key is generated. --import-key-env VAR imports a hex private key from the\n" +
			"environment variable VAR; --keystore FILE imports a go-ethereum V3 keystore file (password from\n" +
			"$AGENTKEYS_KEYSTORE_PASSWORD, or asked for).\n\n" +
			"--owner-address 0x... makes a home that holds NO owner key (docs/owner-offline.md): the owner keeps its\n" +
			"key in its own wallet and signs, with it, the EIP-7702 authorization once and each 7702 grant as EIP-712\n" +
			"typed data. The key generated is the relayer's, a gas account of the daemon's that submits what the owner\n" +
			"signed. Only 7702 keys can be granted; agents cannot sign messages or typed data.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			if upstream != "" {
				if err := checkUpstreamURL(upstream); err != nil {
					return fmt.Errorf("--%w", err)
				}
			}
			dir, err := home.Resolve(homeFlag(cmd), os.Getenv)
			if err != nil {
				return err
			}
			// Refuse before asking for any passphrase.
			if err := home.CanInit(dir); err != nil {
				return err
			}
			if err := home.CheckStoreURL(storeFlag(cmd)); err != nil {
				return fmt.Errorf("--%w", err)
			}
			opts := home.InitOptions{Clock: e.now, UpstreamRPC: strings.TrimSpace(upstream), Store: storeFlag(cmd)}
			if ownerAddress != "" {
				if !common.IsHexAddress(ownerAddress) || common.HexToAddress(ownerAddress) == (common.Address{}) {
					return errors.New("--owner-address: expected the owner's account address, 0x and 40 hex digits (not the zero address)")
				}
				opts.OwnerAddress = common.HexToAddress(ownerAddress)
			}
			switch {
			case importEnv != "":
				if opts.ImportKey, err = home.KeyFromEnv(os.Getenv, importEnv); err != nil {
					return fmt.Errorf("--import-key-env: %w", err)
				}
			case keystoreFile != "":
				// Check the path's shape before asking for a password.
				if err := home.CheckKeystorePath(keystoreFile); err != nil {
					return fmt.Errorf("--keystore: %w", err)
				}
				pw, err := keystorePassword(e)
				if err != nil {
					return err
				}
				opts.ImportKey, err = home.KeyFromKeystore(keystoreFile, pw)
				clear(pw)
				if err != nil {
					return fmt.Errorf("--keystore: %w", err)
				}
			}
			pass, err := home.Passphrase(os.Getenv, confirmed(terminalPrompt(e)))
			if err != nil {
				return err
			}
			defer clear(pass)
			opts.Passphrase = pass
			h, admin, err := home.Init(cmd.Context(), dir, opts)
			if err != nil {
				return err
			}
			if err := h.Close(); err != nil {
				return err
			}
			if output == "json" {
				out := map[string]any{
					"home":        h.Dir,
					"address":     h.Config.WalletAddress,
					"admin_token": admin.Reveal(),
				}
				if h.Config.OwnerOffline {
					out["owner_offline"], out["relayer"] = true, h.Config.RelayerAddress
				}
				return writeJSON(e.io.Out, out)
			}
			if h.Config.OwnerOffline {
				w := e.io.Out
				fmt.Fprintf(w, "agentkeys home created at %s\n\n", h.Dir)
				fmt.Fprintf(w, "owner address: %s (its key is NOT in this home: owner-offline mode)\n", h.Config.WalletAddress)
				fmt.Fprintf(w, "  The owner signs with its own wallet (hardware or browser wallet): the EIP-7702 authorization once\n")
				fmt.Fprintf(w, "  (agentkeys wallet upgrade shows what to sign) and each key, as EIP-712 typed data (agentkeys key grant\n")
				fmt.Fprintf(w, "  --mode 7702 gives it, agentkeys key activate takes the signature). The chain enforces what it signed.\n")
				fmt.Fprintf(w, "  Wallet-mode keys, personal_sign and typed-data signing are refused: only the owner can sign for it.\n\n")
				fmt.Fprintf(w, "relayer address: %s (a new key generated for this home)\n", h.Config.RelayerAddress)
				fmt.Fprintf(w, "  It pays the gas of submitting what the owner signed; it has no power over the owner's account.\n")
				fmt.Fprintf(w, "  Fund it with a little ETH. See docs/owner-offline.md.\n\n")
				fmt.Fprintf(w, "admin credential:\n  %s\n", admin.Reveal())
				fmt.Fprintf(w, "  It will not be shown again: store it now (e.g. in a password manager).\n")
				fmt.Fprintf(w, "  agentkeys keeps only its hash; the admin API (agentkeys key, wallet; AGENTKEYS_ADMIN_TOKEN) asks for it.\n")
				return nil
			}
			origin := "a new key generated for this home"
			if opts.ImportKey != nil {
				origin = "imported"
			}
			w := e.io.Out
			fmt.Fprintf(w, "agentkeys home created at %s\n\n", h.Dir)
			fmt.Fprintf(w, "wallet address: %s (%s)\n", h.Config.WalletAddress, origin)
			fmt.Fprintf(w, "  Agents act as this account in wallet mode: fund it with only what they may spend.\n\n")
			fmt.Fprintf(w, "admin credential:\n  %s\n", admin.Reveal())
			fmt.Fprintf(w, "  It will not be shown again: store it now (e.g. in a password manager).\n")
			fmt.Fprintf(w, "  agentkeys keeps only its hash; the admin API (agentkeys key, wallet; AGENTKEYS_ADMIN_TOKEN) asks for it.\n")
			return nil
		},
	}
	cmd.Flags().StringVar(&importEnv, "import-key-env", "", "import the wallet key (hex private key) from the environment variable `VAR`")
	cmd.Flags().StringVar(&keystoreFile, "keystore", "", "import the wallet key from a go-ethereum V3 keystore `file`")
	cmd.Flags().StringVar(&ownerAddress, "owner-address", "", "hold NO owner key: the owner's account `0x...`, whose key stays in the owner's wallet (owner-offline mode)")
	cmd.MarkFlagsMutuallyExclusive("import-key-env", "keystore", "owner-address")
	cmd.Flags().StringVar(&upstream, "rpc-upstream", "", "save the Ethereum node's JSON-RPC `URL` for agentkeys serve (see agentkeys config)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// storeFlag returns the persistent --store flag, else $AGENTKEYS_STORE
// ("" for neither: the home's own store).
func storeFlag(cmd *cobra.Command) string {
	if f := cmd.Flag("store"); f != nil && f.Value.String() != "" {
		return strings.TrimSpace(f.Value.String())
	}
	return strings.TrimSpace(os.Getenv(home.EnvStore))
}

// homeFlag returns the value of the persistent --home flag ("" if unset).
func homeFlag(cmd *cobra.Command) string {
	if f := cmd.Flag("home"); f != nil {
		return f.Value.String()
	}
	return ""
}

// terminalPrompt returns a function that asks for a secret on the
// terminal without echo, or nil when standard input is not a terminal (so
// callers fail with advice instead of reading a secret from a pipe meant
// for something else).
func terminalPrompt(e *env) func(label string) ([]byte, error) {
	f, ok := e.io.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(label string) ([]byte, error) {
		fmt.Fprint(e.io.Err, label)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.io.Err)
		return b, err
	}
}

// confirmed wraps prompt to ask twice, for a passphrase being chosen.
func confirmed(prompt func(string) ([]byte, error)) func(string) ([]byte, error) {
	if prompt == nil {
		return nil
	}
	return func(label string) ([]byte, error) {
		a, err := prompt("new " + label)
		if err != nil {
			return nil, err
		}
		b, err := prompt("repeat " + label)
		if err != nil {
			clear(a)
			return nil, err
		}
		defer clear(b)
		if !bytes.Equal(a, b) {
			clear(a)
			return nil, errors.New("the passphrases do not match")
		}
		return a, nil
	}
}

// keystorePassword reads $AGENTKEYS_KEYSTORE_PASSWORD or asks for it.
func keystorePassword(e *env) ([]byte, error) {
	if v := os.Getenv(home.EnvKeystorePassword); v != "" {
		return []byte(v), nil
	}
	prompt := terminalPrompt(e)
	if prompt == nil {
		return nil, fmt.Errorf("keystore password: set %s or run in a terminal", home.EnvKeystorePassword)
	}
	return prompt("keystore password: ")
}
