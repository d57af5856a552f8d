package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Checkpoints off the writer's path. In WAL mode a commit that grows the
// log past a threshold copies it into the database file (a checkpoint,
// with its own fsync) before the commit returns, which stalled every
// decision waiting behind it. The writer's connection does not checkpoint
// (wal_autocheckpoint(0)); a connection of its own does, in PASSIVE mode
// (it never blocks the writer or readers), after commits, at most once
// per checkpointEvery. Other processes on the file keep SQLite's default.

// checkpointEvery bounds how often the checkpointer runs.
const checkpointEvery = 200 * time.Millisecond

type checkpointer struct {
	db   *sql.DB
	wake chan struct{}
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func startCheckpointer(ctx context.Context, path string) (*checkpointer, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	c.wg.Add(1)
	go c.loop()
	return c, nil
}

// committed tells the checkpointer the log grew.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.quit:
			return
		case <-c.wake:
		}
		// A failed checkpoint is retried after the next commit; the log
		// only grows meanwhile.
		_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		select {
		case <-c.quit:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// close stops the checkpointer; closing again does nothing more.
func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.quit)
		c.wg.Wait()
		c.err = c.db.Close()
	})
	return c.err
}
