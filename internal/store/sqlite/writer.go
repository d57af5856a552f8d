package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit. Every write transaction of this process (Decide, Owner and
// the store's other writes) is a job on one queue, taken first come, first
// served by one writer goroutine. The writer runs the jobs waiting at that
// moment (up to maxBatch) inside one IMMEDIATE transaction, each in a
// savepoint of its own, and commits them with one fsync. A job that fails
// is rolled back to its savepoint and fails alone; the others commit. A
// job's caller gets its answer only after the commit is on disk, so
// nothing a job produced (a signature above all) leaves before its audit
// record is durable, exactly as with one transaction per job. Jobs run in
// queue order, so one key's requests keep their order and the audit hash
// chain is extended exactly as if they ran one by one (each record reads
// the head its predecessor in the batch wrote). An idle writer takes a
// lone job at once: batching never waits for company, it only collects
// what queued while the previous commit was on disk.

// maxBatch bounds the jobs in one commit, so one commit's work (and the
// latency of the first job in it) stays bounded under any load.
const maxBatch = 64

// errClosed answers jobs that reach a closed store.
var errClosed = errors.New("store closed")

type writeJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *wtx) error
	err  error
	pan  any // a panic in fn, raised again in the caller's goroutine
	done chan struct{}
}

type writer struct {
	db   *sql.DB
	ps   prepared
	gc   writerCache // grants and audit head (stmt.go); the loop's alone
	jobs chan *writeJob
	quit chan struct{}
	wg   sync.WaitGroup
	// sending is held (read) while a job is put on the queue and
	// (write) while closing, so no job is queued after the last drain.
	sending sync.RWMutex
	closed  bool
	// batches and jobs committed, for the bench's figures and the tests.
	mu      sync.Mutex
	stats   WriterStats
	afterTx func(n int) // tests: called after each commit with its job count
	// committed, if set, is called after each commit (the checkpointer).
	committed func()
}

// WriterStats counts the writer's commits and the jobs they held.
type WriterStats struct {
	Commits int64 // store transactions committed (one fsync each)
	Jobs    int64 // write jobs in them
}

func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, jobs: make(chan *writeJob, 4*maxBatch), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

// close stops the writer after the batch in progress; jobs still queued
// fail with errClosed.
func (w *writer) close() {
	w.sending.Lock()
	if w.closed {
		w.sending.Unlock()
		return
	}
	w.closed = true
	w.sending.Unlock()
	close(w.quit)
	w.wg.Wait()
	w.ps.close()
	for {
		select {
		case j := <-w.jobs:
			j.finish(errClosed)
		default:
			return
		}
	}
}

// do runs fn as one job and returns once its outcome is durable (or
// known to have failed). ctx bounds only the wait for the writer: once
// taken, a job runs to its end with ctx's values but not its cancellation,
// since interrupting a statement can make SQLite roll back the whole
// transaction, and with it the other jobs of the batch.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.sending.RLock()
	if w.closed {
		w.sending.RUnlock()
		return errClosed
	}
	select {
	case w.jobs <- j:
	case <-ctx.Done():
		w.sending.RUnlock()
		return ctx.Err()
	}
	w.sending.RUnlock()
	<-j.done
	if j.pan != nil {
		panic(j.pan)
	}
	return j.err
}

func (w *writer) loop() {
	defer w.wg.Done()
	batch := make([]*writeJob, 0, maxBatch)
	for {
		select {
		case j := <-w.jobs:
			batch = append(batch[:0], j)
		case <-w.quit:
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case j := <-w.jobs:
				batch = append(batch, j)
			default:
				break collect
			}
		}
		w.run(batch)
	}
}

// run commits one batch and answers each of its jobs.
func (w *writer) run(batch []*writeJob) {
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
	err := w.commit(live)
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
func (w *writer) commit(jobs []*writeJob) (err error) {
	defer func() {
		if err != nil {
			// Rolled back: the cache may hold what the batch wrote.
			w.gc.reset()
		}
	}()
	ctx := context.Background()
	sqlTx, err := w.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock, waiting up to the busy timeout
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &wtx{tx: sqlTx, ps: &w.ps, gc: &w.gc}
	if err := w.gc.sync(ctx, tx); err != nil {
		sqlTx.Rollback()
		return fmt.Errorf("read data version: %w", err)
	}
	// Statements first run in this transaction are prepared for the
	// next ones once the connection is free again.
	defer w.ps.prepareMissed(ctx, w.db)
	single := len(jobs) == 1
	committed := 0
	for _, j := range jobs {
		if !single {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT job`); err != nil {
				sqlTx.Rollback()
				return fmt.Errorf("savepoint: %w", err)
			}
		}
		j.run(tx)
		failed := j.err != nil || j.pan != nil
		if failed {
			// What it read may have been its own writes, now undone.
			w.gc.reset()
		}
		switch {
		case single && failed:
			sqlTx.Rollback()
			return nil
		case failed:
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO job`); err != nil {
				// SQLite rolled the whole transaction back (an I/O
				// error, a full disk): nothing of the batch stands.
				sqlTx.Rollback()
				return fmt.Errorf("roll back a failed job: %w", err)
			}
		default:
			committed++
		}
		if !single {
			if _, err := tx.ExecContext(ctx, `RELEASE job`); err != nil {
				sqlTx.Rollback()
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
	}
	if committed == 0 {
		sqlTx.Rollback()
		return nil
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if w.committed != nil {
		w.committed()
	}
	w.mu.Lock()
	w.stats.Commits++
	w.stats.Jobs += int64(committed)
	hook := w.afterTx
	w.mu.Unlock()
	if hook != nil {
		hook(len(jobs))
	}
	return nil
}

// run calls the job's fn with the caller's context values but not its
// cancellation, catching a panic to raise it in the caller.
func (j *writeJob) run(tx *wtx) {
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

func (j *writeJob) finish(err error) {
	j.err = err
	close(j.done)
}

// WriterStats reports the writer's commits and the jobs they held so far.
func (s *Store) WriterStats() WriterStats {
	s.wr.mu.Lock()
	defer s.wr.mu.Unlock()
	return s.wr.stats
}
