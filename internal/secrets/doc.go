// Package secrets keeps agentkeys' secrets safe at rest and in transit: the
// master key derived from the owner's passphrase (scrypt), authenticated
// sealing of private keys (AES-256-GCM bound to a record id), the private key
// type that never prints itself, and the bearer credentials handed to agents
// (ak_…) and to the owner's admin tools (akadm_…).
//
// It does no I/O besides reading crypto/rand, reads no clock and imports no
// other agentkeys package, so any package may import it. In practice the
// service core, the signer and the CLI's init/grant commands do; transports
// only ever see a Credential to parse and verify.
//
// Every type here that holds secret bytes keeps them in unexported fields and
// redacts itself in String, GoString, Format (every verb), slog.LogValuer,
// json.Marshaler and encoding.TextMarshaler. Errors returned by this package
// never contain plaintext, key material or the input that failed to parse.
package secrets
