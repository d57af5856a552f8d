// Package sqlite is the embedded store.Store: one SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode with a busy timeout and foreign keys on,
// safe for several processes sharing the file. Only the service core's
// wiring (serve, sandbox, tests) imports it; everything else uses
// store.Store.
//
// Writes go through a single connection whose transactions all begin with
// BEGIN IMMEDIATE, so every write transaction — Decide above all — holds the
// database's one write lock from its first statement: in-process callers
// queue for the connection, other processes wait on the lock (busy timeout).
// Reads use a separate pool of read-only connections, which WAL lets run
// alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentkeys/agentkeys/internal/store"
)

// busyTimeoutMS bounds how long a transaction waits for another process's
// write lock before failing (and the request being refused).
const busyTimeoutMS = 10000

// maxReaders is the size of the read-only connection pool.
const maxReaders = 4

// Store is a store.Store on one SQLite file.
type Store struct {
	w    *sql.DB // exactly one connection; all writes, through wr
	wr   *writer // the one writer: first come, first served, group commit
	cp   *checkpointer
	r    *sql.DB // read-only connections
	path string  // the database file
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it to
// the newest schema this binary knows. path is a file path; ":memory:" and
// paths containing '?' are refused because the store needs a file that its
// two connection pools (and other processes) share. Errors wrap
// store.ErrSchemaTooNew if the file was migrated by a newer binary.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store: %q is not a plain file path", path)
	}

	wq := url.Values{}
	wq.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "foreign_keys(1)")
	// FULL: a commit is on disk before Decide returns, so an audit record
	// exists before any signature leaves the process, even on power loss.
	wq.Add("_pragma", "synchronous(FULL)")
	// Group commit runs each job in a savepoint, whose undo copies
	// (the statement sub-journal) are kept in memory rather than written
	// to a temporary file: they only serve a rollback to the savepoint,
	// never crash recovery (the WAL does that).
	wq.Add("_pragma", "temp_store(MEMORY)")
	// A page cache of 32 MiB for the one writer (the default is 2 MiB),
	// so a decision's indexes stay in memory instead of being read back.
	wq.Add("_pragma", "cache_size(-32768)")
	// Checkpoints run on a connection of their own (checkpoint.go).
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}

	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	rq.Add("_pragma", "foreign_keys(1)")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.SetMaxOpenConns(maxReaders)
	r.SetMaxIdleConns(maxReaders)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	cp, err := startCheckpointer(ctx, path)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{w: w, wr: newWriter(w, cp.committed), cp: cp, r: r, path: path}, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.wr.close()
	return errors.Join(s.cp.close(), s.w.Close(), s.r.Close())
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies the pending migrations in one IMMEDIATE transaction, so
// processes opening a new file at once apply them exactly once.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	ms, err := store.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	todo, err := store.PendingMigrations(ms, applied)
	if err != nil {
		return err
	}
	for _, m := range todo {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, m.Version); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return tx.Commit()
}

func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// writeTx runs fn as one job of the group-committing writer (writer.go):
// in an IMMEDIATE transaction on the write connection, all of fn's writes
// or none, durable when writeTx returns nil. fn's ctx carries ctx's
// values but not its cancellation; ctx bounds only the wait for the writer.
func (s *Store) writeTx(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	return s.wr.q.Do(ctx, fn)
}

// isConstraint reports whether err is a SQLite constraint failure of one of
// the given extended codes.
func isConstraint(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return slices.Contains(codes, se.Code())
}

func isDuplicate(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

// querier is what *sql.DB and *wtx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs a query and scans every row with scan; an empty result
// is an empty slice, not nil.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// whereSQL joins conditions into a WHERE clause ("" for none).
func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
