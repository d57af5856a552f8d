package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/agentkeys/agentkeys/internal/store/groupcommit"
)

// Group commit (package groupcommit): every write transaction of this
// process (Decide, Owner and the store's other writes) is a job on one
// queue, run by one writer in IMMEDIATE transactions of up to
// groupcommit.MaxBatch jobs, each in a savepoint, with one fsync per
// commit. writer is the SQLite side of it: its transactions, its prepared
// statements and the cache of grants and audit head its transactions keep
// (stmt.go).

// errClosed answers jobs that reach a closed store.
var errClosed = groupcommit.ErrClosed

// WriterStats counts the writer's commits and the jobs they held.
type WriterStats = groupcommit.Stats

type writer struct {
	db *sql.DB
	ps prepared
	gc writerCache // grants and audit head (stmt.go); the writer goroutine's alone
	q  *groupcommit.Queue[*wtx]
	// committed, if set, is called after each commit (the checkpointer).
	committed func()
}

func newWriter(db *sql.DB, committed func()) *writer {
	w := &writer{db: db, committed: committed}
	w.q = groupcommit.New[*wtx](w)
	return w
}

// close stops the writer after the batch in progress; jobs still queued
// fail with errClosed.
func (w *writer) close() {
	w.q.Close()
	w.ps.close()
}

// Begin implements groupcommit.Backend: BEGIN IMMEDIATE (the write lock,
// waiting up to the busy timeout), then the cache checked against other
// connections' commits.
func (w *writer) Begin(ctx context.Context) (*wtx, error) {
	sqlTx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	tx := &wtx{tx: sqlTx, ps: &w.ps, gc: &w.gc}
	if err := w.gc.sync(ctx, tx); err != nil {
		sqlTx.Rollback()
		return nil, fmt.Errorf("read data version: %w", err)
	}
	return tx, nil
}

// Savepoint implements groupcommit.Backend.
func (w *writer) Savepoint(ctx context.Context, tx *wtx) error {
	_, err := tx.ExecContext(ctx, `SAVEPOINT job`)
	return err
}

// RollbackTo implements groupcommit.Backend. It fails when SQLite rolled
// the whole transaction back (an I/O error, a full disk).
func (w *writer) RollbackTo(ctx context.Context, tx *wtx) error {
	_, err := tx.ExecContext(ctx, `ROLLBACK TO job`)
	return err
}

// Release implements groupcommit.Backend.
func (w *writer) Release(ctx context.Context, tx *wtx) error {
	_, err := tx.ExecContext(ctx, `RELEASE job`)
	return err
}

// Commit implements groupcommit.Backend.
func (w *writer) Commit(_ context.Context, tx *wtx) error { return tx.tx.Commit() }

// Rollback implements groupcommit.Backend.
func (w *writer) Rollback(tx *wtx) { tx.tx.Rollback() }

// Undone implements groupcommit.Backend: the cache may hold what was
// undone.
func (w *writer) Undone() { w.gc.reset() }

// Ended implements groupcommit.Backend: statements first run in the
// batch are prepared for the next ones now that the connection is free,
// and the checkpointer hears of each commit.
func (w *writer) Ended(committed bool) {
	w.ps.prepareMissed(context.Background(), w.db)
	if committed && w.committed != nil {
		w.committed()
	}
}

// WriterStats reports the writer's commits and the jobs they held so far.
func (s *Store) WriterStats() WriterStats { return s.wr.q.Stats() }
