package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store/sqlite"
)

func appendN(t *testing.T, st interface {
	AppendAudit(context.Context, audit.Record) (audit.Record, error)
}, from, n int) {
	t.Helper()
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		if _, err := st.AppendAudit(t.Context(), audit.Record{Time: at, KeyID: fmt.Sprintf("k%d", i), Method: "eth_chainId", Decision: audit.DecisionAllow}); err != nil {
			t.Fatal(err)
		}
	}
}

// The feed hands every record once, in order, to each handler and
// subscriber; a new feed over the same store (the next start) replays the
// whole log; a failing handler does not stop the others.
func TestFeedDeliversTheLogInOrderAndReplaysOnStart(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	appendN(t, st, 1, 300) // more than one batch

	var logged []string
	f := newFeed(st, func(msg string, args ...any) { logged = append(logged, fmt.Sprint(msg, args)) })
	var seen []int64
	f.Handle(func(_ context.Context, r audit.Record) error {
		if r.KeyID != fmt.Sprintf("k%d", r.Seq) {
			t.Errorf("record %d has key %s", r.Seq, r.KeyID)
		}
		seen = append(seen, r.Seq)
		return nil
	})
	f.Handle(func(context.Context, audit.Record) error { return errors.New("broken handler") })
	ch, stop := f.Subscribe(10)
	defer stop()
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 300 || seen[0] != 1 || seen[299] != 300 {
		t.Fatalf("handler saw %d records (%v…)", len(seen), seen[:min(3, len(seen))])
	}
	if len(logged) != 300 {
		t.Fatalf("the failing handler's errors were logged %d times, want 300", len(logged))
	}
	// The subscriber fell more than 10 behind: its channel is closed
	// after what it could hold, so it knows to read the store again.
	n := 0
	for range ch {
		n++
	}
	if n != 10 {
		t.Fatalf("slow subscriber got %d records before its channel closed, want 10", n)
	}

	// Nothing new: Sync delivers nothing again.
	if err := f.Sync(ctx); err != nil || len(seen) != 300 {
		t.Fatalf("second Sync: %v, %d records seen", err, len(seen))
	}
	// Appends through the notifying store wake Run.
	ns := notifying{Store: st, feed: f}
	live, stopLive := f.Subscribe(100)
	defer stopLive()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Run(rctx, time.Hour) }()
	appendN(t, ns, 301, 2)
	for want := int64(301); want <= 302; want++ {
		if r := <-live; r.Seq != want {
			t.Fatalf("live subscriber got seq %d, want %d", r.Seq, want)
		}
	}
	cancel()
	<-done

	// The next start replays the whole log to its handlers.
	g := newFeed(st, func(string, ...any) {})
	count := 0
	g.Handle(func(context.Context, audit.Record) error { count++; return nil })
	if err := g.Sync(ctx); err != nil || count != 302 {
		t.Fatalf("replay: %v, %d records", err, count)
	}
}
