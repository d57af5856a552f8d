package storetest

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// RunReplicas runs the checks for a backend that several processes share
// (replicas behind a load balancer): open must return n stores on one new,
// empty database, each with its own connections (as separate processes
// would have), closed when t ends. Work is spread over them at once.
func RunReplicas(t *testing.T, open func(t *testing.T, n int) []store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ss []store.Store)
	}{
		{"CapsAndNonces", testReplicaCaps},
		{"AuditChain", testReplicaAudit},
		{"Revocation", testReplicaRevocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t, 3)) })
	}
}

// testReplicaCaps: decisions on three keys that share one account's nonce
// counter, spread over the replicas: every key stops exactly at its cap,
// the nonces are 0..n-1 each once, and the audit chain holds every
// decision.
func testReplicaCaps(t *testing.T, ss []store.Store) {
	const (
		limit   = 40
		perKey  = 90
		keyIDs  = 3
		workers = perKey * keyIDs
	)
	var ids []string
	for i := range keyIDs {
		ids = append(ids, fmt.Sprintf("g%d", i))
	}
	setup(t, ss[0], ids...)
	var (
		mu      sync.Mutex
		nonces  []uint64
		allowed = map[string]int{}
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, id := ss[i%len(ss)], ids[(i/len(ss))%keyIDs]
			var n uint64
			var ok bool
			err := s.Decide(ctx(t), id, func(ctx context.Context, tx store.DecideTx) error {
				ok = false
				return capDecide(ctx, tx, limit, &n, &ok)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Decide on %s: %v", id, err)
			case ok:
				nonces = append(nonces, n)
				allowed[id]++
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, id := range ids {
		if allowed[id] != limit {
			t.Errorf("%s: %d allowed, want exactly the cap %d", id, allowed[id], limit)
		}
		for _, s := range ss {
			if got := spent(t, s, id, store.AssetNative, t0); got.Cmp(big.NewInt(limit)) != 0 {
				t.Errorf("%s: Spent = %s, want %d", id, got, limit)
			}
		}
	}
	assertContiguous(t, nonces)
	for _, s := range ss {
		rep, _, err := store.VerifyAudit(ctx(t), s, 64)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Records != workers {
			t.Errorf("audit after decisions on three replicas: %s (want %d records)", rep, workers)
		}
	}
}

// testReplicaAudit: appends from every replica at once, inside and outside
// decisions, make one chain with no gap, the same seen from each.
func testReplicaAudit(t *testing.T, ss []store.Store) {
	setup(t, ss[0], "g")
	const each = 60
	var wg sync.WaitGroup
	for i, s := range ss {
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if j%2 == 0 {
					_, err = s.AppendAudit(ctx(t), record(fmt.Sprintf("replica-%d", i), t0, audit.DecisionDeny))
				} else {
					err = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
						_, err := tx.AppendAudit(ctx, record("", t0, audit.DecisionAllow))
						return err
					})
				}
				if err != nil {
					t.Errorf("append on replica %d: %v", i, err)
				}
			}()
		}
	}
	wg.Wait()
	var heads []audit.Head
	for _, s := range ss {
		rep, head, err := store.VerifyAudit(ctx(t), s, 50)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Records != each*len(ss) {
			t.Errorf("audit: %s (want %d records)", rep, each*len(ss))
		}
		heads = append(heads, head)
	}
	for _, h := range heads[1:] {
		if h.Seq != heads[0].Seq || string(h.Hash) != string(heads[0].Hash) {
			t.Errorf("replicas see different heads: %v and %v", heads[0], h)
		}
	}
}

// testReplicaRevocation: a revocation through one replica is what the
// next decision on every other replica sees.
func testReplicaRevocation(t *testing.T, ss []store.Store) {
	setup(t, ss[0], "g")
	if err := ss[0].RevokeGrant(ctx(t), "g", t0); err != nil {
		t.Fatal(err)
	}
	for i, s := range ss[1:] {
		g, err := s.GetGrant(ctx(t), "g")
		if err != nil || g.RevokedAt == nil {
			t.Errorf("replica %d: GetGrant after revocation = %+v, %v; want revoked", i+1, g.RevokedAt, err)
		}
		err = s.Decide(ctx(t), "g", func(ctx context.Context, tx store.DecideTx) error {
			if tx.Grant().RevokedAt == nil {
				t.Errorf("replica %d: the decision's grant is not revoked", i+1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
