// Package groupcommit commits the write transactions of one process in
// groups: every write is a job on one queue, taken first come, first
// served by one writer goroutine. The writer runs the jobs waiting at that
// moment (up to MaxBatch) inside one store transaction, each in a
// savepoint of its own, and commits them together, with one flush to
// disk. A job that fails is rolled back to its savepoint and fails alone;
// the others commit. A job's caller gets its answer only after the commit
// is durable, so nothing a job produced (a signature above all) leaves
// before its audit record is on disk, exactly as with one transaction per
// job. Jobs run in queue order, so one key's requests keep their order and
// the audit hash chain is extended exactly as if they ran one by one (each
// record reads the head its predecessor in the batch wrote). An idle
// writer takes a lone job at once: batching never waits for company, it
// only collects what queued while the previous commit was being flushed.
//
// Both store backends use it (SQLite, one writer per file; PostgreSQL,
// one per replica), each through a Backend that knows its transactions.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// MaxBatch bounds the jobs in one commit, so one commit's work (and the
// latency of the first job in it) stays bounded under any load.
const MaxBatch = 64

// ErrClosed answers jobs that reach a closed queue.
var ErrClosed = errors.New("store closed")

// Backend is one store's side of the queue: its transactions, savepoints
// and what it keeps about them. The writer goroutine alone calls it, so
// it needs no locking of its own.
type Backend[T any] interface {
	// Begin starts one batch's transaction.
	Begin(ctx context.Context) (T, error)
	// Savepoint, RollbackTo and Release surround each job of a batch of
	// more than one. An error from RollbackTo or Release fails the batch.
	Savepoint(ctx context.Context, tx T) error
	RollbackTo(ctx context.Context, tx T) error
	Release(ctx context.Context, tx T) error
	Commit(ctx context.Context, tx T) error
	Rollback(tx T)
	// Undone is told that writes of this process were undone (a job was
	// rolled back to its savepoint, or a batch rolled back), so anything
	// kept of what the batch wrote must go.
	Undone()
	// Ended is told each batch's transaction ended, committed or not.
	Ended(committed bool)
}

// Stats counts the writer's commits and the jobs they held.
type Stats struct {
	Commits int64 // store transactions committed (one flush each)
	Jobs    int64 // write jobs in them
}

type job[T any] struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx T) error
	err  error
	pan  any // a panic in fn, raised again in the caller's goroutine
	done chan struct{}
}

// Queue is one writer and its queue of jobs.
type Queue[T any] struct {
	b    Backend[T]
	jobs chan *job[T]
	quit chan struct{}
	wg   sync.WaitGroup
	// sending is held (read) while a job is put on the queue and
	// (write) while closing, so no job is queued after the last drain.
	sending sync.RWMutex
	closed  bool

	mu          sync.Mutex
	stats       Stats
	afterCommit func(n int)
}

// New starts the writer of a queue on b.
func New[T any](b Backend[T]) *Queue[T] {
	q := &Queue[T]{b: b, jobs: make(chan *job[T], 4*MaxBatch), quit: make(chan struct{})}
	q.wg.Add(1)
	go q.loop()
	return q
}

// Close stops the writer after the batch in progress; jobs still queued
// fail with ErrClosed. Closing twice is harmless.
func (q *Queue[T]) Close() {
	q.sending.Lock()
	if q.closed {
		q.sending.Unlock()
		return
	}
	q.closed = true
	q.sending.Unlock()
	close(q.quit)
	q.wg.Wait()
	for {
		select {
		case j := <-q.jobs:
			j.finish(ErrClosed)
		default:
			return
		}
	}
}

// Do runs fn as one job and returns once its outcome is durable (or known
// to have failed). ctx bounds only the wait for the writer: once taken, a
// job runs to its end with ctx's values but not its cancellation, since
// interrupting a statement can roll back (SQLite) or break the connection
// of (PostgreSQL) the whole transaction, and with it the other jobs of the
// batch. A job whose caller gave up while it ran is undone. A panic in fn
// is raised again in Do's caller. fn must not call Do: the writer would
// wait for itself.
func (q *Queue[T]) Do(ctx context.Context, fn func(ctx context.Context, tx T) error) error {
	j := &job[T]{ctx: ctx, fn: fn, done: make(chan struct{})}
	q.sending.RLock()
	if q.closed {
		q.sending.RUnlock()
		return ErrClosed
	}
	select {
	case q.jobs <- j:
	case <-ctx.Done():
		q.sending.RUnlock()
		return ctx.Err()
	}
	q.sending.RUnlock()
	<-j.done
	if j.pan != nil {
		panic(j.pan)
	}
	return j.err
}

// Stats reports the writer's commits and the jobs they held so far.
func (q *Queue[T]) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}

// Queued is how many jobs wait for the writer now (for tests).
func (q *Queue[T]) Queued() int { return len(q.jobs) }

// AfterCommit sets a function told, after each commit, how many jobs its
// batch held (for tests).
func (q *Queue[T]) AfterCommit(f func(n int)) {
	q.mu.Lock()
	q.afterCommit = f
	q.mu.Unlock()
}

func (q *Queue[T]) loop() {
	defer q.wg.Done()
	batch := make([]*job[T], 0, MaxBatch)
	for {
		select {
		case j := <-q.jobs:
			batch = append(batch[:0], j)
		case <-q.quit:
			return
		}
	collect:
		for len(batch) < MaxBatch {
			select {
			case j := <-q.jobs:
				batch = append(batch, j)
			default:
				break collect
			}
		}
		q.run(batch)
	}
}

// run commits one batch and answers each of its jobs.
func (q *Queue[T]) run(batch []*job[T]) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.finish(err)
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	err := q.commit(live)
	for _, j := range live {
		if err != nil && j.err == nil && j.pan == nil {
			j.err = err
		}
		close(j.done)
	}
}

// commit runs the jobs in one transaction. A job's own failure is kept in
// the job; err is a failure of the whole transaction, which then fails
// every job that had not failed on its own.
func (q *Queue[T]) commit(jobs []*job[T]) (err error) {
	ctx := context.Background()
	committed := false
	defer func() {
		if err != nil {
			// Rolled back: what the batch wrote is gone.
			q.b.Undone()
		}
		q.b.Ended(committed)
	}()
	tx, err := q.b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	single := len(jobs) == 1
	ok := 0
	for _, j := range jobs {
		if !single {
			if err := q.b.Savepoint(ctx, tx); err != nil {
				q.b.Rollback(tx)
				return fmt.Errorf("savepoint: %w", err)
			}
		}
		j.run(tx)
		failed := j.err != nil || j.pan != nil
		if failed {
			// What it read may have been its own writes, now undone.
			q.b.Undone()
		}
		switch {
		case single && failed:
			q.b.Rollback(tx)
			return nil
		case failed:
			if err := q.b.RollbackTo(ctx, tx); err != nil {
				// The whole transaction is lost (an I/O error, a full
				// disk, a broken connection): nothing of the batch stands.
				q.b.Rollback(tx)
				return fmt.Errorf("roll back a failed job: %w", err)
			}
		default:
			ok++
		}
		if !single {
			if err := q.b.Release(ctx, tx); err != nil {
				q.b.Rollback(tx)
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
	}
	if ok == 0 {
		q.b.Rollback(tx)
		return nil
	}
	if err := q.b.Commit(ctx, tx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	q.mu.Lock()
	q.stats.Commits++
	q.stats.Jobs += int64(ok)
	hook := q.afterCommit
	q.mu.Unlock()
	if hook != nil {
		hook(len(jobs))
	}
	return nil
}

// run calls the job's fn with the caller's context values but not its
// cancellation, catching a panic to raise it in the caller.
func (j *job[T]) run(tx T) {
	defer func() {
		if p := recover(); p != nil {
			j.pan = p
		}
	}()
	j.err = j.fn(context.WithoutCancel(j.ctx), tx)
	if j.err == nil {
		// The caller gave up while fn ran: it will not read the answer,
		// so nothing of the job may commit (as a cancelled transaction).
		j.err = j.ctx.Err()
	}
}

func (j *job[T]) finish(err error) {
	j.err = err
	close(j.done)
}
