// Package delegatetest holds the tests and the gas benchmark of the
// AgentKeyDelegate contract (contracts/src/AgentKeyDelegate.sol). They run on
// the real EVM of internal/devchain: an owner EOA delegates to the contract
// with an EIP-7702 SetCode transaction, grants a session key, and the session
// key then sends its own transactions, so every refusal asserted here is the
// chain's, with no daemon in between. The package has no non-test code and
// nothing imports it.
package delegatetest
