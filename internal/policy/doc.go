// Package policy decides whether an agent's request may be signed.
//
// It is the one place decisions are made: the daemon, the on-chain
// compiler, the MCP tools and the CLI all call Evaluate. The package is
// pure: it performs no I/O, reads no clock and imports no other internal
// package. Everything it needs (the time, usage so far, the caller's
// address) arrives in a State; everything it decides leaves in a Decision.
//
// A policy is written as YAML or JSON (see docs/policy.md), parsed strictly
// into a Document (the normalised, serialisable form) and compiled into a
// Policy. Anything a rule does not allow is refused, and a matching deny
// rule wins over every allow rule.
package policy
