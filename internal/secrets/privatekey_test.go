package secrets

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func TestPrivateKeyRoundTrip(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if !k.Valid() {
		t.Fatal("generated key not valid")
	}
	if got, want := k.Address(), crypto.PubkeyToAddress(k.ECDSA().PublicKey); got != want {
		t.Errorf("Address = %s, want %s", got, want)
	}
	b := k.Bytes()
	if len(b) != 32 {
		t.Fatalf("Bytes len = %d", len(b))
	}
	back, err := PrivateKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(*k) || back.Address() != k.Address() {
		t.Error("round trip through Bytes changed the key")
	}
	other, _ := GenerateKey()
	if other.Equal(*k) {
		t.Error("two generated keys are equal")
	}

	// Sealing round trip, as the service will do it.
	mk := testKey(t, "pass", testParams(t))
	sealed, err := mk.Seal("wallet-1", k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	pt, err := mk.Open("wallet-1", sealed)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := PrivateKeyFromBytes(pt)
	if err != nil || !opened.Equal(*k) {
		t.Fatalf("sealed round trip: %v", err)
	}
}

func TestPrivateKeyZeroValue(t *testing.T) {
	var k PrivateKey
	if k.Valid() || k.ECDSA() != nil || k.Bytes() != nil || k.Address() != ([20]byte{}) {
		t.Error("zero PrivateKey should hold nothing")
	}
	if got := k.String(); got != "PrivateKey(none)" {
		t.Errorf("String = %q", got)
	}
	if !k.Equal(PrivateKey{}) {
		t.Error("zero keys should be equal")
	}
}

func TestPrivateKeyFromBytesInvalid(t *testing.T) {
	n := crypto.S256().Params().N
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"31 bytes", bytes.Repeat([]byte{0x42}, 31)},
		{"33 bytes", bytes.Repeat([]byte{0x42}, 33)},
		{"zero", make([]byte, 32)},
		{"curve order", n.FillBytes(make([]byte, 32))},
		{"above order", new(big.Int).Add(n, big.NewInt(7)).FillBytes(make([]byte, 32))},
		{"all ones", bytes.Repeat([]byte{0xff}, 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := PrivateKeyFromBytes(tt.b)
			if !errors.Is(err, ErrInvalidPrivateKey) || k != nil {
				t.Fatalf("PrivateKeyFromBytes = %v, %v; want ErrInvalidPrivateKey", k, err)
			}
			msg := strings.ToLower(err.Error())
			if len(tt.b) > 0 {
				for _, enc := range encodings(tt.b) {
					if strings.Contains(msg, strings.ToLower(enc)) {
						t.Errorf("error %q contains input encoding %q", msg, enc)
					}
				}
			}
		})
	}
}
