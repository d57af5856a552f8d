package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/store"
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
	gc    *writerCache         // only the writer goroutine uses it
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
	w.gc.executing(query)
	if st := w.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, query, args...)
}

func (w *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	w.gc.querying(query)
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, query, args...)
}

func (w *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	w.gc.querying(query)
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, query, args...)
}

// The writer's cache. A decision reads its grant and the audit head inside
// its write transaction; the writer keeps the grants it read, decoded, and
// the head it last wrote, and reuses them while nothing can have changed
// them:
//   - any statement of this process that writes the grants table or the
//     audit head other than through the cache (its text names the table)
//     empties the cache, as does any job that fails (its writes were
//     rolled back after it may have read them);
//   - at the start of every batch, PRAGMA data_version on the write
//     connection tells whether another connection (another process: a CLI
//     command, a replica) committed anything since; if so the cache is
//     emptied.
// So a grant revoked or suspended anywhere is seen by the next decision
// exactly as if it had been read afresh.

// maxCachedGrants bounds the cache; past it the cache starts over.
const maxCachedGrants = 10_000

type writerCache struct {
	version int64 // data_version when the cache was last checked
	checked bool
	m       map[string]store.Grant
	head    *audit.Head // the audit head as last written, if known
}

func (c *writerCache) reset() { c.m, c.head = nil, nil }

// sync empties the cache if another connection committed since the last
// batch. It runs at the start of every batch, inside its transaction.
func (c *writerCache) sync(ctx context.Context, tx *wtx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		c.reset()
		c.checked = false
		return err
	}
	if !c.checked || v != c.version {
		c.reset()
	}
	c.version, c.checked = v, true
	return nil
}

// grant is the stored grant id, read through the writer's cache.
func (w *wtx) grant(ctx context.Context, id string) (store.Grant, error) {
	if g, ok := w.gc.m[id]; ok {
		return g.Clone(), nil
	}
	g, err := getGrant(ctx, w, id)
	if err != nil {
		return store.Grant{}, err
	}
	if w.gc.m == nil || len(w.gc.m) >= maxCachedGrants {
		w.gc.m = map[string]store.Grant{}
	}
	w.gc.m[id] = g.Clone()
	return g, nil
}

// executing forgets what a statement about to run may change.
// querying is executing for a query: one that writes (an INSERT ...
// RETURNING, say) forgets as an executed statement does.
func (c *writerCache) querying(query string) {
	q := strings.TrimSpace(query)
	if len(q) >= 6 && (strings.EqualFold(q[:6], "SELECT") || strings.EqualFold(q[:6], "PRAGMA")) {
		return
	}
	c.executing(query)
}

func (c *writerCache) executing(query string) {
	if strings.Contains(query, "grants") {
		c.m = nil
	}
	if strings.Contains(query, "audit_head") {
		c.head = nil
	}
}
