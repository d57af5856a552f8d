// Package crashtest holds the crash harness: `agentkeys serve` run as a
// child process, killed with SIGKILL at random moments while agents load
// it, restarted each time, and afterwards checked for what durability
// promises (docs/architecture.md, invariants 2, 3, 4 and 9): every
// signature that reached a client has its audit record, the ledger equals
// the audited allowed spends and what the chain received, no nonce is
// signed twice, the audit chain verifies, and every transaction ends mined
// or cancelled.
//
// The package has no code outside its tests; nothing imports it.
package crashtest
