package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
)

// Credential format:
//
//	ak_<id>_<secret>     agent credential (bearer token for /rpc and MCP)
//	akadm_<id>_<secret>  admin credential (bearer token for /v1 and the CLI)
//
// <id> is 12 characters of lowercase RFC 4648 base32 (a-z, 2-7; 60 random
// bits): it names the credential in the store and in audit records, is not
// secret, and is safe in URLs, file names and SQL. <secret> is 32 random
// bytes (256 bits) as 64 lowercase hex characters. Hex rather than base64url
// because the whole token then has no '-' and is selected by one double-click,
// and because there is exactly one spelling of each secret (uppercase is
// refused), so a token cannot be varied while still authenticating.
const (
	AgentPrefix = "ak_"
	AdminPrefix = "akadm_"

	IDLen     = 12
	secretLen = 32
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// Secret is the random part of a credential. It redacts itself everywhere;
// the only ways to use it are HashSecret and VerifySecret. The zero value
// holds no secret and verifies against nothing.
//
// The bytes sit behind a pointer on purpose: fmt cannot call methods on a
// value in an unexported struct field and prints it field by field, which
// for an inline array would be the secret itself; a pointer prints as an
// address. PrivateKey and MasterKey hold their material behind pointers too.
type Secret struct {
	b *[secretLen]byte
}

const secretRedacted = "Secret(redacted)"

// String returns a redacted placeholder.
func (Secret) String() string { return secretRedacted }

// GoString returns a redacted placeholder.
func (Secret) GoString() string { return secretRedacted }

// Format prints a redacted placeholder for every verb.
func (Secret) Format(f fmt.State, verb rune) { writeRedacted(f, verb, secretRedacted) }

// LogValue logs a redacted placeholder.
func (Secret) LogValue() slog.Value { return slog.StringValue(secretRedacted) }

// MarshalText returns a redacted placeholder.
func (Secret) MarshalText() ([]byte, error) { return []byte(secretRedacted), nil }

// MarshalJSON returns a redacted placeholder as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(secretRedacted)), nil }

// hashDomain separates credential hashes from any other SHA-256 use.
const hashDomain = "agentkeys/credential/v1\x00"

// HashSecret returns the 32-byte value to store for a credential.
//
// A plain SHA-256 is the right tool here, not scrypt/argon2: the secret is
// 256 bits from crypto/rand, so nobody can enumerate candidates no matter how
// fast the hash is (slow KDFs exist to protect low-entropy, human-chosen
// passwords), and a fast hash keeps authenticating every request cheap and
// gives an attacker no CPU-exhaustion lever. A leaked hash database therefore
// yields no usable token.
//
// HashSecret returns nil for the zero Secret.
func HashSecret(s Secret) []byte {
	if s.b == nil {
		return nil
	}
	h := sha256.New()
	h.Write([]byte(hashDomain))
	h.Write(s.b[:])
	return h.Sum(nil)
}

// VerifySecret reports whether s hashes to hash, comparing in constant time.
// A hash of the wrong length, or the zero Secret, simply does not match.
func VerifySecret(hash []byte, s Secret) bool {
	if s.b == nil {
		return false
	}
	return subtle.ConstantTimeCompare(hash, HashSecret(s)) == 1
}

// Credential is a freshly minted bearer token: its id (stored and shown
// freely) and its secret (shown once, via Reveal, and stored only as Hash).
// It redacts the secret in String, Format, LogValue and JSON/Text marshalling.
type Credential struct {
	prefix string
	id     string
	secret Secret
}

// NewCredential mints an agent credential (ak_…). It fails only if
// crypto/rand fails.
func NewCredential() (Credential, error) { return newCredential(AgentPrefix) }

// NewAdminCredential mints an admin credential (akadm_…). It fails only if
// crypto/rand fails.
func NewAdminCredential() (Credential, error) { return newCredential(AdminPrefix) }

func newCredential(prefix string) (Credential, error) {
	var raw [IDLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Credential{}, fmt.Errorf("credential id: %w", err)
	}
	id := make([]byte, IDLen)
	for i, b := range raw {
		id[i] = idAlphabet[b&31] // 256 is a multiple of 32: uniform
	}
	c := Credential{prefix: prefix, id: string(id), secret: Secret{b: new([secretLen]byte)}}
	if _, err := rand.Read(c.secret.b[:]); err != nil {
		return Credential{}, fmt.Errorf("credential secret: %w", err)
	}
	return c, nil
}

// ID returns the credential's public id (the 12-character <id> part).
func (c Credential) ID() string { return c.id }

// IsAdmin reports whether c is an admin credential (akadm_…).
func (c Credential) IsAdmin() bool { return c.prefix == AdminPrefix }

// Secret returns the secret part, itself redacting.
func (c Credential) Secret() Secret { return c.secret }

// Hash returns HashSecret(c.Secret()), the value to store.
func (c Credential) Hash() []byte { return HashSecret(c.secret) }

// Reveal returns the full token. Call it exactly once, to show the token to
// the owner; never log it.
func (c Credential) Reveal() string {
	if c.id == "" || c.secret.b == nil {
		return ""
	}
	return c.prefix + c.id + "_" + hex.EncodeToString(c.secret.b[:])
}

func (c Credential) redacted() string {
	if c.id == "" {
		return "Credential(none)"
	}
	return "Credential(" + c.prefix + c.id + "_… redacted)"
}

// String returns the redacted form, which shows the public id.
func (c Credential) String() string { return c.redacted() }

// GoString returns the redacted form.
func (c Credential) GoString() string { return c.redacted() }

// Format prints the redacted form for every verb.
func (c Credential) Format(f fmt.State, verb rune) { writeRedacted(f, verb, c.redacted()) }

// LogValue logs the redacted form.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.redacted()) }

// MarshalText returns the redacted form.
func (c Credential) MarshalText() ([]byte, error) { return []byte(c.redacted()), nil }

// MarshalJSON returns the redacted form as a JSON string.
func (c Credential) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(c.redacted())), nil }

// ParseCredential splits an agent token (ak_…) into its id and secret.
// Errors wrap ErrMalformedCredential with a fixed reason and never include
// any part of s. An admin token is refused: it is not an agent credential.
func ParseCredential(s string) (id string, secret Secret, err error) {
	return parseCredential(AgentPrefix, s)
}

// ParseAdminCredential is ParseCredential for admin tokens (akadm_…).
func ParseAdminCredential(s string) (id string, secret Secret, err error) {
	return parseCredential(AdminPrefix, s)
}

func parseCredential(prefix, s string) (string, Secret, error) {
	fail := func(reason string) (string, Secret, error) {
		return "", Secret{}, fmt.Errorf("%w: %s", ErrMalformedCredential, reason)
	}
	if s == "" {
		return fail("empty")
	}
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return fail("missing " + strconv.Quote(prefix) + " prefix")
	}
	rest := s[len(prefix):]
	if len(rest) != IDLen+1+2*secretLen {
		return fail("wrong length")
	}
	id, sep, sec := rest[:IDLen], rest[IDLen], rest[IDLen+1:]
	if !IsCredentialID(id) {
		return fail("malformed id")
	}
	if sep != '_' {
		return fail("missing separator after id")
	}
	out := Secret{b: new([secretLen]byte)}
	for i := 0; i < len(sec); i++ {
		c := sec[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fail("secret is not lowercase hex")
		}
	}
	if _, err := hex.Decode(out.b[:], []byte(sec)); err != nil {
		return fail("secret is not lowercase hex")
	}
	return id, out, nil
}

// IsCredentialID reports whether id has the form of a credential id (12
// characters of a-z, 2-7). Use it to validate ids arriving in URLs.
func IsCredentialID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
