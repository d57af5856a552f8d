package service_test

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/clock"
	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/service"
	"github.com/agentkeys/agentkeys/internal/signer"
	"github.com/agentkeys/agentkeys/internal/store"
	"github.com/agentkeys/agentkeys/internal/store/postgres"
	"github.com/agentkeys/agentkeys/internal/store/postgres/pgtest"
)

// TestWatcherOnOneReplicaAtATime: two services on one PostgreSQL (two
// replicas) share the transaction lifecycle. The first to sweep leads;
// the other's sweeps look at nothing, and it posts no alerts. When the leader's process ends (its
// store closes, its session and lock with it), the other takes over and
// cancels the transaction signed on it that never reached the node.
func TestWatcherOnOneReplicaAtATime(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	chain, err := devchain.Start(ctx, devchain.Config{Fund: []common.Address{key.Address()}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	open := func() *postgres.Store {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	if err := stA.PutKey(ctx, store.Key{ID: "wallet", Kind: store.KeyKindWallet, Address: key.Address().Hex(), Sealed: []byte("not used here"), CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	replica := func(st store.Store) *service.Service {
		svc, err := service.New(service.Config{Store: st, Chain: chain.Client(), ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(key), Vault: testVault,
			WalletKeyID: "wallet", Now: clk.Now, StuckAfter: stuckAfter})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := replica(stA), replica(stB)
	doc, err := a.Document(ctx, service.GrantSpec{Agent: "bot", Profile: "full-access", DailyLimit: []string{"10ETH"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Grant(ctx, service.GrantRequest{Agent: "bot", Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	info := service.RequestInfo{Method: "eth_signTransaction", RequestID: "test"}
	sess, err := b.Authenticate(ctx, res.Token.Reveal(), info)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := b.Transaction(ctx, sess, info, service.TxArgs{To: &stranger, Value: big.NewInt(1e12)}, false)
	if err != nil {
		t.Fatal(err)
	}

	repA, err := a.Sweep(ctx)
	if err != nil || repA.Follower || repA.Checked != 1 {
		t.Fatalf("first sweep, on A: %+v, %v; want A to lead and look at the transaction B signed", repA, err)
	}
	repB, err := b.Sweep(ctx)
	if err != nil || !repB.Follower || repB.Checked != 0 {
		t.Fatalf("sweep on B while A leads: %+v, %v; want B to follow and look at nothing", repB, err)
	}
	if d, err := b.DeliverDue(ctx); err != nil || !d.Follower {
		t.Fatalf("alert dispatch on B while A leads: %+v, %v; want B to post nothing", d, err)
	}

	stA.Close() // A's process ends
	clk.Advance(stuckAfter + time.Second)
	repB, err = b.Sweep(ctx)
	if err != nil || repB.Follower {
		t.Fatalf("sweep on B after A ended: %+v, %v; want B to take over", repB, err)
	}
	if want := strings.ToLower(signed.Hash.Hex()); !slices.Contains(repB.CancelSent, want) {
		t.Errorf("B's sweep cancelled %v, want the stuck %s", repB.CancelSent, want)
	}
}

// TestFeedWakesOnOtherReplicas: a record appended through one replica
// reaches the feed of another at once (LISTEN/NOTIFY), not at its next
// poll, which here would be an hour away.
func TestFeedWakesOnOtherReplicas(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	var sts []*postgres.Store
	for range 2 {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		sts = append(sts, st)
	}
	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := devchain.Start(ctx, devchain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	svc, err := service.New(service.Config{Store: sts[1], Chain: chain.Client(), ChainID: devchain.DefaultChainID, Wallet: signer.NewWallet(key), Vault: testVault})
	if err != nil {
		t.Fatal(err)
	}
	recs, stop := svc.Feed().Subscribe(16)
	defer stop()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Feed().Run(runCtx, time.Hour)
	}()
	defer func() { cancel(); <-done }()

	// Append through the other replica until one arrives: the first
	// appends may come before the feed listens.
	deadline := time.After(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := sts[0].AppendAudit(ctx, audit.Record{Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), KeyID: "elsewhere",
			Method: "eth_chainId", Decision: audit.DecisionAllow}); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-recs:
			if r.KeyID != "elsewhere" {
				t.Fatalf("feed handed %+v", r)
			}
			return
		case <-deadline:
			t.Fatal("a record appended through another replica never reached the feed")
		case <-tick.C:
		}
	}
}
