package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
)

// Backup writes a consistent copy of the whole database to path, a file
// that must not exist yet, with mode 0600 (it holds sealed keys). It is
// SQLite's VACUUM INTO on a connection of its own (the store's readers are
// query-only, which VACUUM INTO refuses): one read transaction, so the
// copy is the database at one commit and writers (a running daemon) go on
// meanwhile. The copy is a complete store: open it, or put it in a home's
// place, as it is.
func (s *Store) Backup(ctx context.Context, path string) error {
	switch _, err := os.Lstat(path); {
	case err == nil:
		return fmt.Errorf("backup: %s already exists; choose a new file", path)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("backup: %w", err)
	}
	// Created first (0600, exclusively) so the copy is never readable by
	// others, even for a moment; VACUUM INTO fills an empty file.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", s.path+"?_pragma="+url.QueryEscape("busy_timeout("+strconv.Itoa(busyTimeoutMS)+")"))
	if err == nil {
		_, err = db.ExecContext(ctx, `VACUUM INTO ?`, path)
		db.Close()
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
