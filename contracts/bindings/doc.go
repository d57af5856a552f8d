// Package bindings holds Go bindings for the agentkeys contracts, generated
// by abigen (v2) from contracts/artifacts by contracts/build.sh; do not edit
// the generated files. Anything that calls or deploys the contracts from Go
// may import it; contracts.Load offers the same ABIs and bytecode without the
// typed wrappers.
package bindings
