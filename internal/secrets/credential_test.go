package secrets

import (
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	agentToken = regexp.MustCompile(`^ak_[a-z2-7]{12}_[0-9a-f]{64}$`)
	adminToken = regexp.MustCompile(`^akadm_[a-z2-7]{12}_[0-9a-f]{64}$`)
)

func TestNewCredential(t *testing.T) {
	tests := []struct {
		name   string
		mint   func() (Credential, error)
		parse  func(string) (string, Secret, error)
		other  func(string) (string, Secret, error)
		format *regexp.Regexp
		admin  bool
	}{
		{"agent", NewCredential, ParseCredential, ParseAdminCredential, agentToken, false},
		{"admin", NewAdminCredential, ParseAdminCredential, ParseCredential, adminToken, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.mint()
			if err != nil {
				t.Fatal(err)
			}
			tok := c.Reveal()
			if !tt.format.MatchString(tok) {
				t.Fatalf("token %q does not match %v", tok, tt.format)
			}
			if c.IsAdmin() != tt.admin || !IsCredentialID(c.ID()) {
				t.Errorf("IsAdmin=%v ID=%q", c.IsAdmin(), c.ID())
			}
			id, secret, err := tt.parse(tok)
			if err != nil {
				t.Fatalf("parse own token: %v", err)
			}
			if id != c.ID() {
				t.Errorf("id = %q, want %q", id, c.ID())
			}
			if !VerifySecret(c.Hash(), secret) {
				t.Error("parsed secret does not verify against the credential's hash")
			}
			if diff := cmp.Diff(HashSecret(c.Secret()), c.Hash()); diff != "" {
				t.Errorf("Hash differs from HashSecret: %s", diff)
			}
			if _, _, err := tt.other(tok); !errors.Is(err, ErrMalformedCredential) {
				t.Errorf("token accepted as the other kind: %v", err)
			}

			d, _ := tt.mint()
			if d.ID() == c.ID() || d.Reveal() == tok {
				t.Error("two credentials collide")
			}
			if VerifySecret(c.Hash(), d.Secret()) {
				t.Error("another credential's secret verifies")
			}
		})
	}
}

func TestVerifySecret(t *testing.T) {
	c, _ := NewCredential()
	h := c.Hash()
	if len(h) != 32 {
		t.Fatalf("hash length %d", len(h))
	}
	tests := []struct {
		name   string
		hash   []byte
		secret Secret
		want   bool
	}{
		{"match", h, c.Secret(), true},
		{"flipped hash", flip(h, 5), c.Secret(), false},
		{"short hash", h[:31], c.Secret(), false},
		{"nil hash", nil, c.Secret(), false},
		{"zero secret", h, Secret{}, false},
		{"zero secret nil hash", nil, Secret{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySecret(tt.hash, tt.secret); got != tt.want {
				t.Errorf("VerifySecret = %v, want %v", got, tt.want)
			}
		})
	}
	if HashSecret(Secret{}) != nil {
		t.Error("HashSecret of the zero Secret should be nil")
	}
}

func TestParseCredentialErrors(t *testing.T) {
	valid := "ak_abcdefghijkl_" + strings.Repeat("0123456789abcdef", 4)
	if _, _, err := ParseCredential(valid); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	secretPart := valid[len(valid)-64:]
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", "empty"},
		{"bearer prefix", "Bearer " + valid, `missing "ak_" prefix`},
		{"admin token", "akadm_abcdefghijkl_" + secretPart, `missing "ak_" prefix`},
		{"uppercase prefix", "AK_" + valid[3:], `missing "ak_" prefix`},
		{"trailing newline", valid + "\n", "wrong length"},
		{"short secret", valid[:len(valid)-1], "wrong length"},
		{"long secret", valid + "0", "wrong length"},
		{"uppercase id", "ak_ABCDEFGHIJKL_" + secretPart, "malformed id"},
		{"id with 0 and 1", "ak_abcdefghij01_" + secretPart, "malformed id"},
		{"id with underscore", "ak_abcdefghijk__" + secretPart, "malformed id"},
		{"dash separator", "ak_abcdefghijkl-" + secretPart, "missing separator after id"},
		{"uppercase hex", "ak_abcdefghijkl_" + strings.ToUpper(secretPart), "secret is not lowercase hex"},
		{"non hex", "ak_abcdefghijkl_" + strings.Repeat("g", 64), "secret is not lowercase hex"},
		{"utf8 in secret", "ak_abcdefghijkl_" + secretPart[:62] + "é", "secret is not lowercase hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := ParseCredential(tt.in)
			if !errors.Is(err, ErrMalformedCredential) {
				t.Fatalf("err = %v, want ErrMalformedCredential", err)
			}
			if want := "secrets: malformed credential: " + tt.reason; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if id != "" || secret.b != nil {
				t.Error("id or secret returned with an error")
			}
			if len(tt.in) > 8 && strings.Contains(err.Error(), tt.in[len(tt.in)/2:]) {
				t.Errorf("error echoes input: %v", err)
			}
		})
	}
}

// parseReasons is every message ParseCredential may return; the fuzz target
// checks errors come only from this set, so none can echo the input.
var parseReasons = map[string]bool{
	"empty":                       true,
	`missing "ak_" prefix`:        true,
	`missing "akadm_" prefix`:     true,
	"wrong length":                true,
	"malformed id":                true,
	"missing separator after id":  true,
	"secret is not lowercase hex": true,
}

func FuzzParseCredential(f *testing.F) {
	c, _ := NewCredential()
	a, _ := NewAdminCredential()
	for _, s := range []string{
		c.Reveal(), a.Reveal(), "", "ak_", "akadm_", "ak__", "ak_abcdefghijkl_",
		"ak_abcdefghijkl_" + strings.Repeat("f", 64),
		"ak_abcdefghijkl_" + strings.Repeat("F", 64),
		"ak_abcdefghijkl-" + strings.Repeat("0", 64),
		"ak_" + strings.Repeat("\xff", 77),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []struct {
			prefix string
			parse  func(string) (string, Secret, error)
		}{{AgentPrefix, ParseCredential}, {AdminPrefix, ParseAdminCredential}} {
			id, secret, err := p.parse(s)
			if err != nil {
				if !errors.Is(err, ErrMalformedCredential) {
					t.Fatalf("error %v does not wrap ErrMalformedCredential", err)
				}
				reason := strings.TrimPrefix(err.Error(), ErrMalformedCredential.Error()+": ")
				if !parseReasons[reason] {
					t.Fatalf("unexpected error text %q", err)
				}
				if id != "" || secret.b != nil {
					t.Fatal("id or secret returned with an error")
				}
				continue
			}
			// Accepted tokens are canonical: re-encoding gives the input back.
			if got := p.prefix + id + "_" + hex.EncodeToString(secret.b[:]); got != s {
				t.Fatalf("accepted non-canonical token %q (canonical %q)", s, got)
			}
			if !IsCredentialID(id) || !VerifySecret(HashSecret(secret), secret) {
				t.Fatalf("accepted token %q with bad id or secret", s)
			}
		}
	})
}
