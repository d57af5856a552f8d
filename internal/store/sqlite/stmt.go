package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements. SQLite parses a statement's text each time it is
// run unprepared, which was a tenth of a decision's CPU. Write
// transactions (wtx) run each statement through a statement prepared once
// on the write connection and reused; the first run of a text is plain
// (preparing on the pool's one connection would wait for the transaction
// that holds it) and the writer prepares it after that commit, when the
// connection is free. The cache is bounded, since a few statements are
// built per call (IN lists, optional filters).

// maxPrepared bounds the statements kept prepared.
const maxPrepared = 256

type prepared struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]struct{}
}

func (p *prepared) get(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stmts[query]
	if st == nil && len(p.stmts)+len(p.missed) < maxPrepared {
		if p.missed == nil {
			p.missed = map[string]struct{}{}
		}
		p.missed[query] = struct{}{}
	}
	return st
}

// prepareMissed prepares the statements run plain since the last call. It
// runs on the writer goroutine between transactions; a statement that
// fails to prepare stays plain.
func (p *prepared) prepareMissed(ctx context.Context, db *sql.DB) {
	p.mu.Lock()
	missed := p.missed
	p.missed = nil
	p.mu.Unlock()
	for q := range missed {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		p.mu.Lock()
		if p.stmts == nil {
			p.stmts = map[string]*sql.Stmt{}
		}
		p.stmts[q] = st
		p.mu.Unlock()
	}
}

func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = nil
}

// wtx is a write transaction whose statements run prepared where they can.
type wtx struct {
	tx    *sql.Tx
	ps    *prepared
	bound map[string]*sql.Stmt // the cached statements bound to tx so far
}

// stmt is query's prepared statement bound to the transaction, or nil.
func (w *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := w.bound[query]; st != nil {
		return st
	}
	st := w.ps.get(query)
	if st == nil {
		return nil
	}
	if w.bound == nil {
		w.bound = map[string]*sql.Stmt{}
	}
	st = w.tx.StmtContext(ctx, st)
	w.bound[query] = st
	return st
}

func (w *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, query, args...)
}

func (w *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, query, args...)
}

func (w *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, query, args...)
}
