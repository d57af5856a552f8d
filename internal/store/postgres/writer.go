package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentkeys/agentkeys/internal/store/groupcommit"
)

// Group commit (package groupcommit): every write transaction of this
// replica is a job on one queue, run by one writer in transactions of up
// to groupcommit.MaxBatch jobs, each in a savepoint, with one WAL flush
// per commit. Before, each request's transaction held the audit head's
// row lock through its own commit, so the log moved one flush at a time
// whatever the number of agents.
//
// Each batch locks the audit head first. Every write transaction of every
// replica is such a batch, so they all take their locks in one order
// (head, then grants, nonce counters, advisory locks) and cannot deadlock;
// a batch sees everything the batches before it committed. Two replicas'
// batches run one after the other; within one, jobs run in queue order.

// WriterStats counts the writer's commits and the jobs they held.
type WriterStats = groupcommit.Stats

type writer struct {
	pool *pgxpool.Pool
	q    *groupcommit.Queue[pgx.Tx]
}

func newWriter(pool *pgxpool.Pool) *writer {
	w := &writer{pool: pool}
	w.q = groupcommit.New[pgx.Tx](w)
	return w
}

// Begin implements groupcommit.Backend: a transaction holding the audit
// head's lock.
func (w *writer) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("lock the audit head: %w", err)
	}
	return tx, nil
}

// Savepoint implements groupcommit.Backend.
func (w *writer) Savepoint(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SAVEPOINT job`)
	return err
}

// RollbackTo implements groupcommit.Backend: the job's writes and the row
// locks it took are undone.
func (w *writer) RollbackTo(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT job`)
	return err
}

// Release implements groupcommit.Backend.
func (w *writer) Release(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `RELEASE SAVEPOINT job`)
	return err
}

// Commit implements groupcommit.Backend.
func (w *writer) Commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }

// Rollback implements groupcommit.Backend.
func (w *writer) Rollback(tx pgx.Tx) { tx.Rollback(context.Background()) }

// Undone implements groupcommit.Backend: nothing is kept.
func (w *writer) Undone() {}

// Ended implements groupcommit.Backend.
func (w *writer) Ended(bool) {}

// detached is a job's view of the batch's transaction: its statements run
// with the caller's context values but never its cancellation, which pgx
// would turn into a cancelled statement (failing the whole transaction)
// or a closed connection, and so into the loss of the batch's other jobs.
// The queue undoes a job whose caller gave up, at its end.
type detached struct{ pgx.Tx }

func (d detached) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return d.Tx.Exec(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return d.Tx.Query(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return d.Tx.QueryRow(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return d.Tx.CopyFrom(context.WithoutCancel(ctx), table, cols, src)
}

func (d detached) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return d.Tx.SendBatch(context.WithoutCancel(ctx), b)
}

func (d detached) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return d.Tx.Prepare(context.WithoutCancel(ctx), name, sql)
}

// Begin, Commit and Rollback belong to the writer: a job that calls them
// would end or nest in the batch's transaction.
func (d detached) Begin(context.Context) (pgx.Tx, error) {
	return nil, fmt.Errorf("a write job may not begin a transaction of its own")
}

func (d detached) Commit(context.Context) error {
	return fmt.Errorf("a write job may not commit the batch's transaction")
}

func (d detached) Rollback(context.Context) error {
	return fmt.Errorf("a write job may not roll back the batch's transaction")
}

// WriterStats reports the writer's commits and the jobs they held so far.
func (s *Store) WriterStats() WriterStats { return s.wr.q.Stats() }
