package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// leadLock is the first key of the session advisory lock whose holder
// runs the transaction watcher; the second is the schema's name hashed,
// so deployments in separate schemas of one database do not share it.
const leadLock = 0x616b7477 // "aktw"

// leader holds the watcher's advisory lock on a connection of its own
// while this process leads.
type leader struct {
	mu   sync.Mutex
	pool *pgxpool.Pool
	conn *pgxpool.Conn // non-nil while the lock is held
}

// Lead reports whether this process holds the watcher's turn among the
// replicas sharing the database, taking it if no one holds it. The lock
// belongs to a database session: it lasts until Close, or until the
// session ends (the process dies, the connection breaks), and then the
// next replica to call Lead takes over. Lead checks that a held session
// is still alive, so a process whose connection broke stops leading.
func (s *Store) Lead(ctx context.Context) (bool, error) {
	l := &s.lead
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		// A session lock lasts as long as its session: if the session
		// answers, the lock is still this process's.
		_, err := l.conn.Exec(ctx, `SELECT 1`)
		if err == nil {
			return true, nil
		}
		// The session is gone, and the lock with it: let it go, try again.
		l.conn.Conn().Close(context.WithoutCancel(ctx))
		l.conn.Release()
		l.conn = nil
		if ctx.Err() != nil {
			return false, fmt.Errorf("lead: %w", err)
		}
	}
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("lead: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, int32(leadLock)).Scan(&got); err != nil {
		conn.Release()
		return false, fmt.Errorf("lead: %w", err)
	}
	if !got {
		conn.Release()
		return false, nil
	}
	l.conn = conn
	return true, nil
}

// close gives up the lead: the lock is released before the session
// closes, so another replica can take over at once (a session that ends
// releases it too, but a moment later).
func (l *leader) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, int32(leadLock))
		l.conn.Conn().Close(ctx)
		l.conn.Release()
		l.conn = nil
	}
}

// ListenAudit calls notify after every commit, by any replica, that
// appended audit records (LISTEN on the channel every append notifies),
// until ctx ends (nil) or its connection fails (the error). It holds one
// connection of the pool meanwhile.
func (s *Store) ListenAudit(ctx context.Context, notify func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen audit: %w", err)
	}
	// The session listens: it is closed rather than handed back to the
	// pool still listening.
	defer func() {
		conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+auditChannel); err != nil {
		return fmt.Errorf("listen audit: %w", err)
	}
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listen audit: %w", err)
		}
		notify()
	}
}
