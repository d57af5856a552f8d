package store

import "errors"

// Sentinel errors. Implementations wrap them with context; test with
// errors.Is. Any other error is an infrastructure failure.
var (
	// ErrNotFound: the named key, grant or setting does not exist.
	ErrNotFound = errors.New("store: not found")

	// ErrConflict: a key or grant with that id already exists.
	ErrConflict = errors.New("store: already exists")

	// ErrInvalid: an argument breaks the contract (see the Validate methods
	// and each method's doc). Nothing was written.
	ErrInvalid = errors.New("store: invalid argument")

	// ErrTxDone: a DecideTx method was called after its callback returned.
	ErrTxDone = errors.New("store: decide transaction has ended")

	// ErrSchemaTooNew: the database was migrated by a newer agentkeys than
	// this binary; opening it could corrupt data, so it is refused.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
)
