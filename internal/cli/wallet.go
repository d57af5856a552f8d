package cli

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/service"
)

func newWalletCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "The owner account's EIP-7702 delegation to AgentKeyDelegate (talks to the running daemon)"}
	cmd.PersistentFlags().String("admin-url", "", "admin API base URL (default: $AGENTKEYS_ADMIN_URL, the home's sandbox.json or config.json)")
	for _, c := range []struct{ use, short, method, path string }{
		{"status", "Is the owner delegated, to what, on which chain", "GET", "/v1/wallet"},
		{"upgrade", "Delegate the owner to AgentKeyDelegate: sign the 7702 authorization (never for chain id 0) and send the type-0x04 transaction; without the owner's key, show what the owner signs, or submit it (--authorization)", "POST", "/v1/wallet/upgrade"},
		{"downgrade", "Remove the owner's delegation (delegate to the zero address)", "POST", "/v1/wallet/downgrade"},
	} {
		var output, authorization string
		sub := &cobra.Command{
			Use:   c.use,
			Short: c.short,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := outputFlag(output, "text", "json"); err != nil {
					return err
				}
				a, err := newAdminClient(cmd)
				if err != nil {
					return err
				}
				var st service.WalletStatus
				if c.method == "POST" {
					// Without the owner's key the owner signs the
					// authorization: show what to sign, or submit it.
					var cur service.WalletStatus
					if err := a.Do(cmd.Context(), "GET", "/v1/wallet", nil, &cur); err != nil {
						return fmt.Errorf("wallet %s: %w", c.use, err)
					}
					if cur.OwnerOffline && authorization == "" {
						return authorizationSteps(cmd, e, a, c.use, output)
					}
					if !cur.OwnerOffline && authorization != "" {
						return fmt.Errorf("wallet %s: --authorization is for a daemon without the owner's key; this one signs the authorization itself", c.use)
					}
				}
				var body any
				if authorization != "" {
					body = admin.WalletChangeRequest{Authorization: authorization}
				}
				if err := a.Do(cmd.Context(), c.method, c.path, body, &st); err != nil {
					if done, perr := printPending(e, output, err); done {
						return perr
					}
					return fmt.Errorf("wallet %s: %w", c.use, err)
				}
				if output == "json" {
					return writeJSON(e.io.Out, st)
				}
				w := e.io.Out
				fmt.Fprintf(w, "account:  %s\nchain:    %d\n", st.Account.Hex(), st.ChainID)
				switch {
				case st.Delegated && st.IsAgentKeys:
					fmt.Fprintf(w, "status:   delegated to AgentKeyDelegate %s (EIP-7702)\n", st.Delegate.Hex())
				case st.Delegated:
					fmt.Fprintf(w, "status:   delegated to %s, which is NOT AgentKeyDelegate\n", st.Delegate.Hex())
				case st.HasCode:
					fmt.Fprintln(w, "status:   a contract account (cannot be delegated)")
				default:
					fmt.Fprintln(w, "status:   a plain account (not delegated)")
				}
				if st.OwnerOffline {
					fmt.Fprintln(w, "owner key: not on this daemon (owner-offline mode): the owner signs the 7702 authorization and each key's grant with its own wallet")
					if st.Relayer != nil {
						bal := "unknown"
						if b, ok := new(big.Int).SetString(st.RelayerBalance, 10); ok {
							bal = policy.FormatAmount(b, 18) + " ETH"
						}
						fmt.Fprintf(w, "relayer:  %s (the daemon's gas account), balance %s\n", st.Relayer.Hex(), bal)
					}
				}
				if st.Expected == (common.Address{}) {
					fmt.Fprintln(w, "7702:     no AgentKeyDelegate deployment is configured on this chain; run agentkeys wallet deploy-delegate")
				}
				if st.Expected != (common.Address{}) && (!st.Delegated || st.Delegate != st.Expected) {
					fmt.Fprintf(w, "expected: AgentKeyDelegate at %s; run agentkeys wallet upgrade for 7702 keys\n", st.Expected.Hex())
				}
				return nil
			},
		}
		sub.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
		if c.method == "POST" {
			sub.Flags().StringVar(&authorization, "authorization", "", "owner-offline mode: the EIP-7702 authorization the owner signed (the `hex` cast wallet sign-auth prints), for the relayer to submit")
		}
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newDeployDelegateCmd(e))
	return cmd
}

func newDeployDelegateCmd(e *env) *cobra.Command {
	var (
		output string
		opts   service.DeployOptions
	)
	cmd := &cobra.Command{
		Use:   "deploy-delegate [--plain]",
		Short: "Deploy AgentKeyDelegate on the daemon's chain from the owner account and record it in the home",
		Long: "Deploy the AgentKeyDelegate contract that 7702 keys need, from the owner account, through the running\n" +
			"daemon (which holds the unlocked owner key). Where the chain has the deterministic deployment proxy\n" +
			"(0x4e59b44847b379578588920cA78FbF26c0B4956C) the contract is created with CREATE2 and has the same\n" +
			"address on every such chain; if it is already there, nothing is sent. Otherwise (or with --plain) it is\n" +
			"a plain contract creation. The address is recorded in the home's config.json, so agentkeys serve uses\n" +
			"it without --delegate. The owner pays the gas; the transaction is audited before it is sent.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(output, "text", "json"); err != nil {
				return err
			}
			a, err := newAdminClient(cmd)
			if err != nil {
				return err
			}
			var res service.DeployResult
			if err := a.Do(cmd.Context(), "POST", "/v1/wallet/deploy-delegate", opts, &res); err != nil {
				return fmt.Errorf("wallet deploy-delegate: %w", err)
			}
			if output == "json" {
				return writeJSON(e.io.Out, res)
			}
			w := e.io.Out
			switch {
			case res.AlreadyDeployed:
				fmt.Fprintf(w, "AgentKeyDelegate is already deployed on chain %d at %s; nothing was sent\n", res.ChainID, res.Address.Hex())
			case res.Method == delegation.MethodCreate2:
				fmt.Fprintf(w, "AgentKeyDelegate deployed on chain %d at %s\n  with CREATE2 through the deterministic deployment proxy (the same address on every chain that has it)\n  tx: %s\n",
					res.ChainID, res.Address.Hex(), res.TxHash)
			default:
				fmt.Fprintf(w, "AgentKeyDelegate deployed on chain %d at %s\n  with a plain contract creation from the owner\n  tx: %s\n", res.ChainID, res.Address.Hex(), res.TxHash)
			}
			if res.Recorded {
				fmt.Fprintln(w, "recorded in the home: agentkeys serve uses it without --delegate")
			} else {
				fmt.Fprintf(w, "NOT recorded in the home (%s): start serve with --delegate %s\n", res.RecordError, res.Address.Hex())
			}
			fmt.Fprintln(w, "next: agentkeys wallet upgrade, then agentkeys key grant --mode 7702 ...")
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Plain, "plain", false, "a plain contract creation even where the deterministic deployment proxy exists")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// authorizationSteps prints the EIP-7702 authorization the owner signs
// with its own wallet, and how to hand it to the daemon.
func authorizationSteps(cmd *cobra.Command, e *env, a *admin.Client, use, output string) error {
	path := "/v1/wallet/authorization"
	if use == "downgrade" {
		path += "?downgrade=1"
	}
	var req service.AuthorizationRequest
	if err := a.Do(cmd.Context(), "GET", path, nil, &req); err != nil {
		return fmt.Errorf("wallet %s: %w", use, err)
	}
	if output == "json" {
		return writeJSON(e.io.Out, req)
	}
	w := e.io.Out
	what := "delegate your account to AgentKeyDelegate " + req.Delegate.Hex()
	if use == "downgrade" {
		what = "remove your account's delegation (delegate to the zero address)"
	}
	fmt.Fprintf(w, "This daemon holds no owner key. To %s, sign this EIP-7702 authorization\nwith the owner's wallet:\n\n", what)
	fmt.Fprintf(w, "  chain id: %d\n  address:  %s\n  nonce:    %d (the owner account's next nonce: valid only until it sends another transaction)\n  signer:   %s\n\n",
		req.ChainID, req.Delegate.Hex(), req.Nonce, req.Owner.Hex())
	fmt.Fprintf(w, "With Foundry (add --ledger, --trezor or --account NAME for the owner's key):\n  %s\n\n", req.Cast)
	fmt.Fprintf(w, "then hand the printed hex to the daemon, whose relayer %s sends it and pays the gas:\n  agentkeys wallet %s --authorization 0x...\n\n", req.Relayer.Hex(), use)
	fmt.Fprintf(w, "Or send it yourself from the owner's account (it pays the gas):\n  cast send %s --auth %s --from %s\n", req.Owner.Hex(), req.Delegate.Hex(), req.Owner.Hex())
	return nil
}
