package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
)

// holdWriter makes the writer's next job block until the returned release
// is called, so that jobs queue behind it; it returns once the writer is
// inside that job.
func holdWriter(t *testing.T, s *Store) (release func(), wait func() error) {
	t.Helper()
	inside, gate := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.writeTx(context.Background(), func(ctx context.Context, tx *wtx) error {
			close(inside)
			<-gate
			return nil
		})
	}()
	<-inside
	return func() { close(gate) }, func() error { return <-errc }
}

// waitQueued returns once n jobs wait in the writer's queue.
func waitQueued(s *Store, n int) {
	for s.wr.q.Queued() < n {
		runtime.Gosched()
	}
}

// TestGroupCommit: decisions that queue while a commit is in progress
// commit together, in queue order, each in its own savepoint: a failing
// or panicking decision is undone alone and answered with its own error,
// the others commit, and the hash chain and nonces come out exactly as if
// they had run one by one.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	seedTB(t, s)
	var sizes []int
	s.wr.q.AfterCommit(func(n int) { sizes = append(sizes, n) })
	before := s.WriterStats()

	const n = 8
	const failing, panicking = 3, 5
	release, waitHeld := holdWriter(t, s)
	errs := make([]error, n)
	panics := make([]any, n)
	nonces := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		waitQueued(s, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = s.Decide(context.Background(), "g", func(ctx context.Context, tx store.DecideTx) error {
				nonce, err := tx.NextNonce(ctx, 1, wallet, 0)
				if err != nil {
					return err
				}
				nonces[i] = int64(nonce)
				if _, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_signTransaction",
					Decision: audit.DecisionAllow, RequestID: fmt.Sprintf("job-%d", i)}); err != nil {
					return err
				}
				switch i {
				case failing:
					return errors.New("refused after writing")
				case panicking:
					panic("job panicked after writing")
				}
				return nil
			})
		}()
	}
	waitQueued(s, n)
	release()
	wg.Wait()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}

	if !slices.Equal(sizes, []int{1, n}) {
		t.Errorf("commits held %v jobs, want [1 %d]: the queued decisions were not committed together", sizes, n)
	}
	if got := s.WriterStats(); got.Commits-before.Commits != 2 || got.Jobs-before.Jobs != n-1 {
		t.Errorf("writer stats moved by %d commits, %d jobs; want 2 commits, %d jobs", got.Commits-before.Commits, got.Jobs-before.Jobs, n-1)
	}
	for i := range n {
		switch i {
		case failing:
			if errs[i] == nil || panics[i] != nil {
				t.Errorf("job %d: err %v, panic %v; want its own error", i, errs[i], panics[i])
			}
		case panicking:
			if panics[i] != "job panicked after writing" {
				t.Errorf("job %d: panic %v, err %v; want its panic raised in its caller", i, panics[i], errs[i])
			}
		default:
			if errs[i] != nil || panics[i] != nil {
				t.Errorf("job %d: err %v, panic %v", i, errs[i], panics[i])
			}
		}
	}

	recs, err := s.AuditRecords(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for k, r := range recs {
		ids = append(ids, r.RequestID)
		if r.Seq != int64(k+1) {
			t.Errorf("record %d has seq %d", k, r.Seq)
		}
	}
	want := []string{"job-0", "job-1", "job-2", "job-4", "job-6", "job-7"}
	if !slices.Equal(ids, want) {
		t.Errorf("audit holds %v, want %v (queue order, the failed and panicked jobs undone)", ids, want)
	}
	// The undone jobs' nonces were rolled back with them and reused.
	if got := []int64{nonces[0], nonces[1], nonces[2], nonces[4], nonces[6], nonces[7]}; !slices.Equal(got, []int64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("committed jobs took nonces %v, want 0..5", got)
	}
	if rep, _, err := store.VerifyAudit(t.Context(), s, 100); err != nil || !rep.OK() {
		t.Errorf("VerifyAudit: %+v, %v", rep, err)
	}
}

// TestGroupCommitCancelledWhileQueued: a request whose context ends while
// it waits for the writer is not run at all.
func TestGroupCommitCancelledWhileQueued(t *testing.T) {
	s := openTemp(t)
	seedTB(t, s)
	release, waitHeld := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	errc := make(chan error, 1)
	go func() {
		errc <- s.Decide(ctx, "g", func(ctx context.Context, tx store.DecideTx) error {
			ran = true
			return nil
		})
	}()
	waitQueued(s, 1)
	cancel()
	release()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Decide = %v, want context.Canceled", err)
	}
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("a decision cancelled while queued ran")
	}
}

// TestWriterClosed: after Close, writes fail with a clear error instead of
// hanging.
func TestWriterClosed(t *testing.T) {
	s := openTemp(t)
	s.wr.close()
	err := s.writeTx(t.Context(), func(ctx context.Context, tx *wtx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Errorf("write after close = %v, want %v", err, errClosed)
	}
}

// revokedNow reports whether a decision on g sees it revoked.
func revokedNow(t *testing.T, s *Store) bool {
	t.Helper()
	var revoked bool
	if err := s.Decide(t.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
		revoked = tx.Grant().RevokedAt != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return revoked
}

// warmGrant is a store whose writer has read grant g (unrevoked) into its
// cache.
func warmGrant(t *testing.T) *Store {
	t.Helper()
	s := openTemp(t)
	seedTB(t, s)
	if revokedNow(t, s) {
		t.Fatal("revoked before revocation")
	}
	return s
}

// TestWriterGrantCache: decisions reuse the grant the writer read, but
// never after it changed: a revocation by this process (even within the
// same batch), by another process on the same file, or a change undone
// with a failed job is seen by the very next decision.
func TestWriterGrantCache(t *testing.T) {
	t.Run("revoked in the same batch", func(t *testing.T) {
		s := warmGrant(t)
		release, waitHeld := holdWriter(t, s)
		errs := make(chan error, 1)
		go func() { errs <- s.RevokeGrant(context.Background(), "g", t0.Add(time.Minute)) }()
		waitQueued(s, 1)
		seen := make(chan bool, 1)
		go func() {
			var revoked bool
			err := s.Decide(context.Background(), "g", func(ctx context.Context, tx store.DecideTx) error {
				revoked = tx.Grant().RevokedAt != nil
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			seen <- revoked
		}()
		waitQueued(s, 2)
		release()
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if err := waitHeld(); err != nil {
			t.Fatal(err)
		}
		if !<-seen {
			t.Error("a decision batched after a revocation saw the grant unrevoked")
		}
	})
	t.Run("revoked by another process", func(t *testing.T) {
		s := warmGrant(t)
		other, err := Open(t.Context(), s.path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := other.RevokeGrant(t.Context(), "g", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if !revokedNow(t, s) {
			t.Error("a decision after another process revoked the grant saw it unrevoked")
		}
	})
	t.Run("revoked by a query that writes", func(t *testing.T) {
		s := warmGrant(t)
		err := s.writeTx(t.Context(), func(ctx context.Context, tx *wtx) error {
			var id string
			return tx.QueryRowContext(ctx, `UPDATE grants SET revoked_at = ? WHERE id = 'g' RETURNING id`, ms(t0)).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !revokedNow(t, s) {
			t.Error("a decision after an UPDATE ... RETURNING revoked the grant saw it unrevoked")
		}
	})
	t.Run("change undone by a failed job", func(t *testing.T) {
		s := warmGrant(t)
		// A job revokes, reads the grant (filling the cache) and fails.
		err := s.writeTx(t.Context(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ? WHERE id = 'g'`, ms(t0)); err != nil {
				return err
			}
			g, err := tx.grant(ctx, "g")
			if err != nil {
				return err
			}
			if g.RevokedAt == nil {
				t.Error("the job did not read its own revocation")
			}
			return errors.New("undo")
		})
		if err == nil {
			t.Fatal("the failing job succeeded")
		}
		if revokedNow(t, s) {
			t.Error("a decision saw a revocation that was rolled back")
		}
	})
}

// TestWriterAuditHeadCache: the writer keeps the audit head it last wrote,
// but records appended by another process on the same file, or a record
// whose job failed, never break the chain.
func TestWriterAuditHeadCache(t *testing.T) {
	s := openTemp(t)
	seedTB(t, s)
	other, err := Open(t.Context(), s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	appendOne := func(st *Store, id string, fail bool) {
		t.Helper()
		err := st.Decide(t.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
			if _, err := tx.AppendAudit(ctx, audit.Record{Time: t0, Method: "eth_signTransaction", Decision: audit.DecisionAllow, RequestID: id}); err != nil {
				return err
			}
			if fail {
				return errors.New("undo")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("append %s: %v", id, err)
		}
	}
	appendOne(s, "a", false)
	appendOne(other, "b", false) // another process moves the head
	appendOne(s, "c", false)
	appendOne(s, "undone", true) // moved the head, then rolled back
	appendOne(s, "d", false)
	recs, err := s.AuditRecords(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.RequestID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c", "d"}) {
		t.Errorf("audit holds %v, want [a b c d]", ids)
	}
	if rep, _, err := store.VerifyAudit(t.Context(), s, 100); err != nil || !rep.OK() {
		t.Errorf("VerifyAudit: %+v, %v", rep, err)
	}
}

// TestNextNonceAtTheEnd: the one-statement nonce allocation hands out the
// last nonce and then refuses, never wrapping or turning into a float.
func TestNextNonceAtTheEnd(t *testing.T) {
	s := openTemp(t)
	seedTB(t, s)
	next := func(floor uint64) (uint64, error) {
		var n uint64
		err := s.Decide(t.Context(), "g", func(ctx context.Context, tx store.DecideTx) error {
			var err error
			n, err = tx.NextNonce(ctx, 1, wallet, floor)
			return err
		})
		return n, err
	}
	if n, err := next(7); err != nil || n != 7 {
		t.Fatalf("first NextNonce(floor 7) = %d, %v; want 7", n, err)
	}
	if n, err := next(0); err != nil || n != 8 {
		t.Fatalf("NextNonce(floor 0) = %d, %v; want 8", n, err)
	}
	last := uint64(math.MaxInt64 - 1)
	if n, err := next(last); err != nil || n != last {
		t.Fatalf("NextNonce(floor MaxInt64-1) = %d, %v; want %d", n, err, last)
	}
	if n, err := next(0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("NextNonce past the end = %d, %v; want ErrInvalid", n, err)
	}
}

// TestCloseTwice: closing a store again is harmless (owners close in
// defers and cleanups alike).
func TestCloseTwice(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "agentkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Logf("second Close: %v", err)
	}
}
