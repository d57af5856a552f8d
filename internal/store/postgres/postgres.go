// Package postgres is the store.Store for several agentkeys replicas
// sharing one PostgreSQL database (pgx). Only the service core's wiring
// (the home, tests) imports it; everything else uses store.Store.
//
// It keeps the SQLite store's semantics exactly (both pass
// store/storetest) but serialises with row locks instead of one writer,
// so replicas decide for different keys at once:
//
//   - Decide locks its grant's row first (SELECT … FOR NO KEY UPDATE): two
//     decisions on one key, on any replicas, run one after the other, and
//     each sees the other's reservations and audit records.
//   - NextNonce locks the (chain, address) counter row.
//   - Every audit append locks the single audit_head row last and moves it
//     in the same transaction, so the log is one hash chain with no gaps
//     however many replicas append, and a record with a higher Seq is
//     never committed before a lower one.
//   - Writes that touch a grant's budget outside Decide (settling,
//     releasing, resetting a chain) and writes that suspend or revoke lock
//     the grant row before the audit head, the same order as Decide, so
//     they cannot deadlock with it.
//
// Transactions run at READ COMMITTED: every statement after a lock sees
// what the lock's previous holder committed.
//
// Store.Lead gives the transaction watcher of one replica at a time its
// turn (a session advisory lock on a connection of its own: when the
// holder dies, PostgreSQL ends its session and another replica takes
// over at its next try).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/store"
)

// defaultMaxConns is the pool size when the URL sets no pool_max_conns:
// the watcher's lock and the audit listener each keep one connection, and
// requests need the rest.
const defaultMaxConns = 10

// lockTimeout bounds how long a statement waits for a row lock before
// failing (and the request being refused), as SQLite's busy timeout does.
const lockTimeout = 10 * time.Second

// Store is a store.Store on one PostgreSQL database (its tables in the
// connection's current schema).
type Store struct {
	pool  *pgxpool.Pool
	shown string // the DSN without user info, path or query, for errors
	lead  leader
	wr    *writer // every write transaction (writer.go)
}

var _ store.Store = (*Store)(nil)

// IsDSN reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a SQLite file.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the DSN as it may be shown: scheme and host only. A DSN
// may carry a password in its user info or query.
func Redact(dsn string) string { return secrets.RedactURL(dsn) }

// Open connects to the database named by dsn (postgres:// or
// postgresql://; pgx's parameters, search_path among them) and migrates
// it to the newest schema this binary knows. Errors never repeat the
// DSN's user info, path or query; they wrap store.ErrSchemaTooNew if the
// database was migrated by a newer binary.
func Open(ctx context.Context, dsn string) (*Store, error) {
	shown := Redact(dsn)
	if !IsDSN(dsn) {
		return nil, fmt.Errorf("open store %s: not a postgres:// or postgresql:// URL", shown)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the connection string: keep them out.
		return nil, fmt.Errorf("open store %s: malformed PostgreSQL URL", shown)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = fmt.Sprint(lockTimeout.Milliseconds())
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", shown, redactErr(err, dsn))
	}
	s := &Store{pool: pool, shown: shown}
	s.lead.pool = pool
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", shown, redactErr(err, dsn))
	}
	s.wr = newWriter(pool)
	return s, nil
}

// redactErr returns err's text without anything the DSN carries beyond
// its host (pgx's connection errors name the user and database).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, dsn string) error {
	msg := secrets.RedactURLs(err.Error())
	if cfg, perr := pgconn.ParseConfig(dsn); perr == nil && cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "[redacted]")
	}
	return &redactedError{msg: msg, err: err}
}

// Close releases the watcher's lock (if held) and the connection pool.
func (s *Store) Close() error {
	s.wr.q.Close()
	s.lead.close()
	s.pool.Close()
	return nil
}

// String names the database without secrets.
func (s *Store) String() string { return "postgres " + s.shown }

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the first key of the transaction advisory lock that
// keeps replicas starting at once from migrating one schema twice; the
// second is the schema's name hashed.
const migrationLock = 0x616b6d67 // "akmg"

// migrate applies the pending migrations in one transaction, holding an
// advisory lock on the current schema.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	// Not through the writer: its batches lock the audit head, which the
	// first migration creates.
	return s.soloTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, int32(migrationLock)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		applied, err := queryAll(ctx, tx, `SELECT version FROM schema_version ORDER BY version`, nil,
			func(r rowScanner) (int, error) {
				var v int
				err := r.Scan(&v)
				return v, err
			})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		todo, err := store.PendingMigrations(ms, applied)
		if err != nil {
			return err
		}
		for _, m := range todo {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// writeTx runs fn as one job of the group-committing writer (writer.go):
// all of fn's writes or none, durable when writeTx returns nil; undone if
// ctx ends before its batch commits; a panic in fn is raised again here.
// fn's statements run with ctx's values but not its cancellation; ctx
// bounds the wait for the writer.
func (s *Store) writeTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.wr.q.Do(ctx, func(_ context.Context, tx pgx.Tx) error { return fn(detached{tx}) })
}

// soloTx runs fn in a transaction of its own: committed if fn returns nil
// and ctx is still live, rolled back otherwise (and on panic, re-raised).
func (s *Store) soloTx(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return commit(ctx, tx)
}

// commit commits tx unless ctx has ended: a request abandoned before its
// commit stores nothing.
func commit(ctx context.Context, tx pgx.Tx) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// pgCode returns the SQLSTATE of a PostgreSQL error, "" for others.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type rowScanner = store.RowScanner

// queryAll runs a query and scans every row with scan; an empty result
// is an empty slice, not nil.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// where collects conditions and their arguments, numbering the
// placeholders ($1, $2, …) as they are added.
type where struct {
	conds []string
	args  []any
}

// add appends a condition whose "?" placeholders (in order) take args.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// next is the placeholder for one more argument a (LIMIT and friends).
func (w *where) next(a any) string {
	w.args = append(w.args, a)
	return fmt.Sprintf("$%d", len(w.args))
}

// sql is the WHERE clause ("" for none).
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// ms converts a time to the stored form: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// optMS converts a nullable stored time back.
func optMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}
