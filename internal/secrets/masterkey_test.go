package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testParams are cheap scrypt parameters so tests run fast under -race; the
// real cost is exercised once in TestDeriveKeyDefaultParams.
func testParams(t *testing.T) KDFParams {
	t.Helper()
	p, err := NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	p.N = 1 << 10
	return p
}

func testKey(t *testing.T, pass string, p KDFParams) *MasterKey {
	t.Helper()
	k, err := DeriveKey([]byte(pass), p)
	if err != nil {
		t.Fatalf("DeriveKey: %v", err)
	}
	return k
}

func TestNewKDFParams(t *testing.T) {
	p, err := NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	want := KDFParams{KDF: "scrypt", N: 1 << 15, R: 8, P: 1, KeyLen: 32, Salt: p.Salt}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if len(p.Salt) != 16 || bytes.Equal(p.Salt, make([]byte, 16)) {
		t.Errorf("salt = %x, want 16 random bytes", p.Salt)
	}
	q, _ := NewKDFParams()
	if bytes.Equal(p.Salt, q.Salt) {
		t.Error("two calls returned the same salt")
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back KDFParams
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s\njson: %s", diff, b)
	}
	for _, field := range []string{`"kdf":"scrypt"`, `"n":32768`, `"r":8`, `"p":1`, `"key_len":32`, `"salt":"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON %s lacks %s", b, field)
		}
	}
}

func TestKDFParamsValidate(t *testing.T) {
	good := KDFParams{KDF: "scrypt", N: 1 << 15, R: 8, P: 1, KeyLen: 32, Salt: make([]byte, 16)}
	tests := []struct {
		name   string
		mutate func(*KDFParams)
		ok     bool
	}{
		{"default", func(*KDFParams) {}, true},
		{"small n is allowed", func(p *KDFParams) { p.N = 2 }, true},
		{"other kdf", func(p *KDFParams) { p.KDF = "argon2id" }, false},
		{"empty kdf", func(p *KDFParams) { p.KDF = "" }, false},
		{"n not power of two", func(p *KDFParams) { p.N = 1000 }, false},
		{"n one", func(p *KDFParams) { p.N = 1 }, false},
		{"n zero", func(p *KDFParams) { p.N = 0 }, false},
		{"n negative", func(p *KDFParams) { p.N = -(1 << 15) }, false},
		{"r zero", func(p *KDFParams) { p.R = 0 }, false},
		{"p zero", func(p *KDFParams) { p.P = 0 }, false},
		{"p huge", func(p *KDFParams) { p.P = 1 << 20 }, false},
		{"memory over 1GiB", func(p *KDFParams) { p.N = 1 << 21 }, false},
		{"memory exactly 1GiB", func(p *KDFParams) { p.N = 1 << 20 }, true},
		{"key len 16", func(p *KDFParams) { p.KeyLen = 16 }, false},
		{"short salt", func(p *KDFParams) { p.Salt = make([]byte, 15) }, false},
		{"no salt", func(p *KDFParams) { p.Salt = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.mutate(&p)
			err := p.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidKDFParams) {
				t.Errorf("error %v does not wrap ErrInvalidKDFParams", err)
			}
			if err != nil {
				if _, err := DeriveKey([]byte("pass"), p); !errors.Is(err, ErrInvalidKDFParams) {
					t.Errorf("DeriveKey error = %v, want ErrInvalidKDFParams", err)
				}
			}
		})
	}
}

func TestDeriveKeyDefaultParams(t *testing.T) {
	p, err := NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	k1 := testKey(t, "correct horse", p)
	check, err := k1.Check()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unlock([]byte("correct horse"), p, check); err != nil {
		t.Errorf("Unlock with right passphrase: %v", err)
	}
	if _, err := Unlock([]byte("correct horsE"), p, check); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Unlock with wrong passphrase = %v, want ErrWrongPassphrase", err)
	}
}

func TestDeriveKeyEmptyPassphrase(t *testing.T) {
	if _, err := DeriveKey(nil, testParams(t)); !errors.Is(err, ErrEmptyPassphrase) {
		t.Errorf("DeriveKey(nil) = %v, want ErrEmptyPassphrase", err)
	}
}

func TestPassphraseCheck(t *testing.T) {
	p := testParams(t)
	right := testKey(t, "right", p)
	check, err := right.Check()
	if err != nil {
		t.Fatal(err)
	}
	otherSalt := testParams(t)

	tests := []struct {
		name string
		key  *MasterKey
		blob []byte
		want error
	}{
		{"same passphrase and params", testKey(t, "right", p), check, nil},
		{"wrong passphrase", testKey(t, "wrong", p), check, ErrWrongPassphrase},
		{"right passphrase other salt", testKey(t, "right", otherSalt), check, ErrWrongPassphrase},
		{"flipped byte", right, flip(check, len(check)-1), ErrWrongPassphrase},
		{"truncated", right, check[:10], ErrEnvelope},
		{"empty", right, nil, ErrEnvelope},
		{"sealed record is not a check", right, mustSeal(t, right, "agentkeys passphrase check", "agentkeys passphrase check"), ErrWrongPassphrase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.key.VerifyCheck(tt.blob)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyCheck = %v, want %v", err, tt.want)
			}
		})
	}

	c2, _ := right.Check()
	if bytes.Equal(check, c2) {
		t.Error("two checks are identical: nonce not random")
	}
}

func mustSeal(t *testing.T, k *MasterKey, id, pt string) []byte {
	t.Helper()
	b, err := k.Seal(id, []byte(pt))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestSealOpen(t *testing.T) {
	p := testParams(t)
	k := testKey(t, "pass", p)
	other := testKey(t, "other", p)
	const plaintext = "private-key-bytes-do-not-print"
	sealed := mustSeal(t, k, "key-1", plaintext)

	if len(sealed) != 1+12+len(plaintext)+16 || sealed[0] != 1 {
		t.Fatalf("envelope: len %d, version %d", len(sealed), sealed[0])
	}
	if bytes.Contains(sealed, []byte(plaintext)) {
		t.Fatal("sealed value contains plaintext")
	}
	if again := mustSeal(t, k, "key-1", plaintext); bytes.Equal(again, sealed) {
		t.Error("sealing twice gave identical envelopes: nonce not random")
	}

	tests := []struct {
		name   string
		key    *MasterKey
		id     string
		sealed []byte
		want   error
	}{
		{"round trip", k, "key-1", sealed, nil},
		{"moved to another record", k, "key-2", sealed, ErrOpen},
		{"record id prefix", k, "key-", sealed, ErrOpen},
		{"record id extended", k, "key-10", sealed, ErrOpen},
		{"other master key", other, "key-1", sealed, ErrOpen},
		{"flipped nonce", k, "key-1", flip(sealed, 1), ErrOpen},
		{"flipped ciphertext", k, "key-1", flip(sealed, 14), ErrOpen},
		{"flipped tag", k, "key-1", flip(sealed, len(sealed)-1), ErrOpen},
		{"unknown version", k, "key-1", flip(sealed, 0), ErrEnvelope},
		{"truncated to header", k, "key-1", sealed[:13], ErrEnvelope},
		{"truncated tag", k, "key-1", sealed[:len(sealed)-1], ErrOpen},
		{"empty", k, "key-1", nil, ErrEnvelope},
		{"empty record id", k, "", sealed, ErrEmptyRecordID},
		{"check blob is not a record", k, "key-1", mustCheck(t, k), ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Open(tt.id, tt.sealed)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if string(got) != plaintext {
					t.Fatalf("Open = %q, want %q", got, plaintext)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes with an error", len(got))
			}
			if strings.Contains(err.Error(), plaintext) || strings.Contains(err.Error(), tt.id+"x") {
				t.Errorf("error leaks data: %v", err)
			}
		})
	}

	if _, err := k.Seal("", []byte("x")); !errors.Is(err, ErrEmptyRecordID) {
		t.Errorf("Seal with empty record id = %v, want ErrEmptyRecordID", err)
	}
	empty := mustSeal(t, k, "empty", "")
	if got, err := k.Open("empty", empty); err != nil || len(got) != 0 {
		t.Errorf("empty plaintext round trip = %q, %v", got, err)
	}
}

func mustCheck(t *testing.T, k *MasterKey) []byte {
	t.Helper()
	b, err := k.Check()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
