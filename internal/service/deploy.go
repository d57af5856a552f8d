package service

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/delegation"
	"github.com/agentkeys/agentkeys/internal/signer"
)

// DeployOptions say how DeployDelegate deploys.
type DeployOptions struct {
	// Plain forces a plain contract creation even where the deterministic
	// deployment proxy exists.
	Plain bool `json:"plain,omitempty"`
}

// DeployResult is where AgentKeyDelegate is on the daemon's chain.
type DeployResult struct {
	ChainID uint64         `json:"chain_id"`
	Address common.Address `json:"address"`
	// Method is delegation.MethodCreate2 or delegation.MethodCreate; empty
	// when nothing was deployed because a deployment already existed.
	Method string `json:"method,omitempty"`
	TxHash string `json:"tx_hash,omitempty"`
	// AlreadyDeployed: the address already held AgentKeyDelegate's code, so
	// no transaction was sent.
	AlreadyDeployed bool `json:"already_deployed"`
	// Recorded: the address was saved in the home's config, so serve uses
	// it without --delegate. RecordError says why not, if it was not.
	Recorded    bool   `json:"recorded"`
	RecordError string `json:"record_error,omitempty"`
}

// DeployDelegate makes sure AgentKeyDelegate is deployed on the daemon's
// chain and that the daemon uses it: it keeps a configured deployment that
// holds the contract's code, adopts the deterministic address if someone
// already deployed there, and otherwise deploys from the owner account —
// through the deterministic deployment proxy when the chain has it (the
// same address on every such chain), else with a plain creation. The
// signed transaction is audited (its hash and the contract's address)
// before it is broadcast; an audit failure sends nothing.
//
// It runs inside the daemon rather than from the home because the daemon
// already holds the unlocked owner key and is the one process signing as
// the owner: a second process signing with the same key would race it for
// nonces. Like every owner transaction it goes through sendOwner: a store
// nonce, the signer, and the audit record committed before the broadcast.
func (s *Service) DeployDelegate(ctx context.Context, opts DeployOptions) (DeployResult, error) {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	res := DeployResult{ChainID: s.cfg.ChainID}

	if cur := s.delegate(); cur != (common.Address{}) {
		ok, err := delegation.IsAgentKeyDelegate(ctx, s.cfg.Chain, cur)
		if err != nil {
			return res, err
		}
		if ok {
			res.Address, res.AlreadyDeployed = cur, true
			return s.adopt(ctx, res), nil
		}
		// A configured address without the code (a wrong flag, another
		// chain's address, a reset dev chain) is replaced below.
	}

	method := delegation.MethodCreate
	if !opts.Plain {
		has, err := delegation.HasFactory(ctx, s.cfg.Chain)
		if err != nil {
			return res, err
		}
		if has {
			method = delegation.MethodCreate2
			addr := delegation.DeterministicAddress()
			ok, err := delegation.IsAgentKeyDelegate(ctx, s.cfg.Chain, addr)
			if err != nil {
				return res, err
			}
			if ok { // deployed by anyone: CREATE2 makes it the same contract
				res.Address, res.AlreadyDeployed = addr, true
				return s.adopt(ctx, res), nil
			}
		}
	}

	to, data, err := delegation.DeployCall(method)
	if err != nil {
		return res, err
	}
	res.Method = method
	detail := map[string]any{"chain_id": s.cfg.ChainID, "deploy_method": method}
	if method == delegation.MethodCreate2 {
		res.Address = delegation.DeterministicAddress()
		detail["address"] = res.Address.Hex()
	} // a plain creation's address follows from the nonce: sendOwner records it
	signed, rcpt, err := s.sendOwner(ctx, ownerCall{method: "agentkeys_deployDelegate", to: to, data: data, detail: detail, sender: s.deployer()})
	if signed != nil {
		res.TxHash = signed.Hash().Hex()
	}
	if err != nil {
		return res, fmt.Errorf("deploy AgentKeyDelegate: %w", err)
	}
	if method == delegation.MethodCreate {
		res.Address = rcpt.ContractAddress
	}
	var block *big.Int
	if rcpt != nil {
		block = rcpt.BlockNumber
	}
	ok, err := delegation.IsAgentKeyDelegateAt(ctx, s.cfg.Chain, res.Address, block)
	if err != nil {
		return res, err
	}
	if !ok {
		return res, fmt.Errorf("deploy AgentKeyDelegate: transaction %s was mined but %s does not hold the contract's code", res.TxHash, res.Address.Hex())
	}
	return s.adopt(ctx, res), nil
}

// adopt makes res.Address the daemon's delegate and records it.
func (s *Service) adopt(ctx context.Context, res DeployResult) DeployResult {
	s.delegateMu.Lock()
	prev := s.delegateAddr
	s.delegateAddr = res.Address
	s.delegateMu.Unlock()
	if res.AlreadyDeployed && prev != res.Address {
		s.adminAudit(ctx, "agentkeys_useDelegate", map[string]any{"chain_id": res.ChainID, "address": res.Address, "previous": prev})
	}
	if s.cfg.RecordDelegate == nil {
		res.RecordError = "this daemon has no home to record it in"
		return res
	}
	if err := s.cfg.RecordDelegate(s.cfg.ChainID, res.Address); err != nil {
		res.RecordError = PublicError(err)
		return res
	}
	res.Recorded = true
	return res
}

// deployer signs a deployment: the owner's wallet, or without the
// owner's key the relayer (anyone may deploy AgentKeyDelegate; it holds
// no state of its own).
func (s *Service) deployer() signer.Signer {
	if s.OwnerOffline() {
		return s.cfg.Relayer
	}
	return nil
}
