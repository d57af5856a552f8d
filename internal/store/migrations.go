package store

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
)

// Migration is one numbered schema change of a backend, applied once, in
// order, and recorded in the backend's schema_version table.
type Migration struct {
	Version int
	Name    string // NNNN_name.sql
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// LoadMigrations reads the migrations in directory dir of fsys (files named
// NNNN_name.sql) in ascending version order, checking that versions are
// positive and unique. Gaps are allowed (branches number their migrations
// ahead of a merge); PendingMigrations keeps them safe.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	return SortMigrations(ms)
}

// SortMigrations orders ms by version and refuses versions below 1 and
// versions given twice.
func SortMigrations(ms []Migration) ([]Migration, error) {
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version < 1 {
			return nil, fmt.Errorf("migration %s: version must be 1 or more", m.Name)
		}
		if i > 0 && ms[i-1].Version == m.Version {
			return nil, fmt.Errorf("migrations %s and %s: same version", ms[i-1].Name, m.Name)
		}
	}
	return ms, nil
}

// PendingMigrations returns the migrations of ms to apply to a database
// that has the applied versions, in order. Only versions above the newest
// applied one are applied, so migrations never run out of order. A
// database that lacks a migration older than its newest one (it was made
// by a build whose numbering had a gap this binary fills) or that has a
// version this binary does not know is refused rather than guessed at;
// one migrated by a newer binary is ErrSchemaTooNew.
func PendingMigrations(ms []Migration, applied []int) ([]Migration, error) {
	known := map[int]bool{}
	newestKnown := 0
	for _, m := range ms {
		known[m.Version] = true
		newestKnown = m.Version
	}
	have := map[int]bool{}
	cur := 0
	for _, v := range applied {
		have[v] = true
		cur = max(cur, v)
		if !known[v] && v > newestKnown {
			return nil, fmt.Errorf("%w: database is at version %d, this binary knows up to %d", ErrSchemaTooNew, v, newestKnown)
		}
		if !known[v] {
			return nil, fmt.Errorf("database has schema version %d, which this binary does not know: it was made by another build of agentkeys; use that build or a fresh home", v)
		}
	}
	out := []Migration{}
	for _, m := range ms {
		switch {
		case have[m.Version]:
		case m.Version < cur:
			return nil, fmt.Errorf("database is at schema version %d but lacks %s: it was made by another build of agentkeys; use that build or a fresh home", cur, m.Name)
		default:
			out = append(out, m)
		}
	}
	return out, nil
}
