package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// A grant's seal is the master key's seal of what it allows
// (store.GrantSealID): made when the grant is made and when the owner
// activates it, checked before every request it makes. Whoever can write
// the database but does not hold the master key (a shared PostgreSQL
// server, a backup, a replica's disk) can then neither make a grant the
// daemon accepts nor widen one (its policy, expiry, account, signing key,
// credential) nor let a pending one act: the seal no longer opens, and
// the key is refused.

// CredentialUnsealed is what an agent is told (4100) when its key's grant
// fails its seal: it was changed outside agentkeys.
const CredentialUnsealed = "credential refused: its grant was changed outside agentkeys (it fails the home's seal); the owner must grant a new key"

// sealGrant returns g's seal, as it is now (Pending included).
func (s *Service) sealGrant(g store.Grant) ([]byte, error) {
	seal, err := s.cfg.Vault.Seal(store.GrantSealID(g), nil)
	if err != nil {
		return nil, fmt.Errorf("seal grant: %w", err)
	}
	return seal, nil
}

// sealHolds reports whether g carries the seal of exactly what it is.
func (s *Service) sealHolds(g store.Grant) bool {
	if len(g.Seal) == 0 {
		return false
	}
	_, err := s.cfg.Vault.Open(store.GrantSealID(g), g.Seal)
	return err == nil
}

// activatePending lets the grant id, pending for pending (store.PendingApproval
// or store.PendingSignature), act: it checks the stored grant's seal,
// seals it as active and stores that with meta and rec in one
// transaction (store.ActivateGrant). It returns false if the grant does
// not wait for pending (already active, revoked, or waiting for
// something else). Errors: ErrNoKey, and an error if the stored grant
// fails its seal.
func (s *Service) activatePending(ctx context.Context, id, pending string, meta map[string]string, rec audit.Record) (bool, error) {
	g, err := s.cfg.Store.GetGrant(ctx, id)
	if err != nil {
		return false, err
	}
	if !s.sealHolds(g) {
		return false, errUnsealed
	}
	if g.Pending != pending || g.RevokedAt != nil {
		return false, nil
	}
	g.Pending = ""
	seal, err := s.sealGrant(g)
	if err != nil {
		return false, err
	}
	return s.cfg.Store.ActivateGrant(ctx, id, store.Activation{Pending: pending, Seal: seal, Meta: meta, Audit: rec})
}

// errUnsealed refuses to act on a grant that fails its seal.
var errUnsealed = errors.New("this key's grant was changed outside agentkeys (it fails the home's seal): revoke it and grant again")

// sealsMarker is the store setting that says every grant is sealed: set
// once SealGrants has sealed a home's older grants.
const sealsMarker = "grant_seals"

// SealGrants seals the grants a home made before grants were sealed,
// once (the serve and sandbox start call it): when the store has no
// sealsMarker and no grant carries a seal, it seals every grant and sets
// the marker. If some grants are sealed but the marker is missing, it
// seals nothing, since grants added without a seal were not made here:
// they stay refused, and it logs so. It returns how many it sealed.
func (s *Service) SealGrants(ctx context.Context) (int, error) {
	if v, err := s.cfg.Store.GetMeta(ctx, sealsMarker); err == nil && v != "" {
		return 0, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("seal grants: %w", err)
	}
	seals := map[string][]byte{}
	sealed := 0
	err := s.eachGrant(ctx, store.GrantFilter{}, func(g store.Grant) error {
		if len(g.Seal) > 0 {
			sealed++
			return nil
		}
		seal, err := s.sealGrant(g)
		seals[g.ID] = seal
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("seal grants: %w", err)
	}
	if sealed > 0 && len(seals) > 0 {
		s.cfg.Log.Error("grants without a seal beside sealed ones: they were not made by this home's daemon and stay refused",
			"sealed", sealed, "unsealed", len(seals))
		clear(seals)
	}
	n := 0
	if len(seals) > 0 {
		if n, err = s.cfg.Store.SealGrants(ctx, seals); err != nil {
			return 0, err
		}
		s.adminAudit(ctx, "agentkeys_grantsSealed", map[string]any{"sealed": n})
	}
	if err := s.cfg.Store.SetMeta(ctx, sealsMarker, "v1"); err != nil {
		return n, fmt.Errorf("seal grants: %w", err)
	}
	return n, nil
}
