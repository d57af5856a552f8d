// Package home manages the agentkeys home directory (~/.agentkeys by
// default): the config file, which records how to derive the master key
// and which wallet key the daemon holds, and the SQLite store beside it.
//
// Init creates a home once and never overwrites one; Open unlocks it with
// the owner's passphrase; OpenStore opens only the store, for commands such
// as `audit verify` that need no secrets. Passphrase, KeyFromEnv and
// KeyFromKeystore gather the secrets Init and Open need without ever
// putting them in an error.
//
// It is wiring, not logic: the CLI (init, serve, sandbox, audit) and the
// daemon's start-up import it; the service core and the transports receive
// what it opens (a store.Store, a *secrets.PrivateKey) and never import it.
package home
