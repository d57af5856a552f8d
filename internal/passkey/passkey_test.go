package passkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/agentkeys/agentkeys/internal/audit"
)

// authenticator is a software passkey: a P-256 key that answers
// assertions as a platform authenticator does (user present and
// verified).
type authenticator struct {
	key    *ecdsa.PrivateKey
	credID []byte
	rpID   string
}

func newAuthenticator(t *testing.T, id byte) *authenticator {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &authenticator{key: k, credID: []byte{id, 0xca, 0xfe}, rpID: "localhost"}
}

func (a *authenticator) cose(t *testing.T) []byte {
	t.Helper()
	raw, err := a.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	b, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey),
		Algorithm: int64(webauthncose.AlgES256)}, Curve: int64(webauthncose.P256), XCoord: raw[1:33], YCoord: raw[33:]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign answers challenge: authenticatorData, clientDataJSON, signature.
func (a *authenticator) sign(t *testing.T, challenge []byte) (authData, clientData, sig []byte) {
	t.Helper()
	rp := sha256.Sum256([]byte(a.rpID))
	authData = append(rp[:], flagUserPresent|flagUserVerified, 0, 0, 0, 1)
	clientData, _ = json.Marshal(map[string]string{"type": "webauthn.get", "challenge": B64.EncodeToString(challenge), "origin": "http://localhost:8646"})
	h := sha256.Sum256(clientData)
	d := sha256.Sum256(append(append([]byte(nil), authData...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return authData, clientData, sig
}

var at = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func record(seq int64, method string, call any) audit.Record {
	b, _ := json.Marshal(call)
	return audit.Record{Seq: seq, Time: at, Method: method, Call: b, Decision: audit.DecisionAllow, Reasons: []string{}}
}

func (a *authenticator) registered(t *testing.T, seq int64, id, changeID string) audit.Record {
	return record(seq, MethodRegistered, Registered{PasskeyID: id, Name: id, CredentialID: B64.EncodeToString(a.credID),
		PublicKey: B64.EncodeToString(a.cose(t)), RPID: a.rpID, ChangeID: changeID})
}

func (a *authenticator) approved(t *testing.T, seq int64, changeID, kind string, change []byte) audit.Record {
	nonce := []byte("0123456789abcdef0123456789abcdef")
	ch := Challenge(change, nonce)
	authData, clientData, sig := a.sign(t, ch)
	return record(seq, MethodApproved, Approved{ChangeID: changeID, Kind: kind, Change: change, Nonce: B64.EncodeToString(nonce),
		Challenge: B64.EncodeToString(ch), CredentialID: B64.EncodeToString(a.credID), AuthenticatorData: B64.EncodeToString(authData),
		ClientDataJSON: B64.EncodeToString(clientData), Signature: B64.EncodeToString(sig)})
}

// check runs a checker over recs and returns the problems by seq.
func check(recs ...audit.Record) map[int64]string {
	c := NewChecker()
	out := map[int64]string{}
	for _, r := range recs {
		if err := c.Check(r); err != nil {
			out[r.Seq] = err.Error()
		}
	}
	return out
}

// TestCheckerFollowsThePasskeys: approvals verify against the
// registration before them; a forged signature, a changed change, a
// passkey never registered (a database row alone), one registered behind
// another's back, or one removed, approve nothing, each with a message
// that says so.
func TestCheckerFollowsThePasskeys(t *testing.T) {
	owner, other := newAuthenticator(t, 1), newAuthenticator(t, 2)
	grant := []byte(`{"kind":"grant","key_id":"k1","policy":{"limits":[{"asset":"native","per_period":"0.1"}]}}`)
	addOther, _ := json.Marshal(map[string]string{"kind": KindPasskeyAdd, "credential_id": B64.EncodeToString(other.credID),
		"public_key": B64.EncodeToString(other.cose(t))})

	forged := owner.approved(t, 3, "c2", "grant", grant)
	var f Approved
	_ = json.Unmarshal(forged.Call, &f)
	sig, _ := B64.DecodeString(f.Signature)
	sig[len(sig)-1] ^= 1
	f.Signature = B64.EncodeToString(sig)
	forged = record(3, MethodApproved, f)

	altered := owner.approved(t, 4, "c3", "grant", grant)
	var al Approved
	_ = json.Unmarshal(altered.Call, &al)
	al.Change = json.RawMessage(strings.Replace(string(grant), "0.1", "1000", 1))
	altered = record(4, MethodApproved, al)

	tests := []struct {
		name string
		recs []audit.Record
		want map[int64]string // substrings of the problems
	}{
		{"approval by the registered passkey", []audit.Record{owner.registered(t, 1, "pk1", ""), owner.approved(t, 2, "c1", "grant", grant)}, nil},
		{"forged signature", []audit.Record{owner.registered(t, 1, "pk1", ""), forged},
			map[int64]string{3: "the signature does not verify with the registered public key"}},
		{"change altered after signing", []audit.Record{owner.registered(t, 1, "pk1", ""), altered},
			map[int64]string{4: "its challenge is not the hash of the change it records"}},
		{"passkey not in the log", []audit.Record{owner.registered(t, 1, "pk1", ""), other.approved(t, 2, "c1", "grant", grant)},
			map[int64]string{2: "which no earlier record registered"}},
		{"second passkey registered without approval", []audit.Record{owner.registered(t, 1, "pk1", ""), other.registered(t, 2, "pk2", ""),
			other.approved(t, 3, "c1", "grant", grant)},
			map[int64]string{2: "without that passkey's approval", 3: "which no earlier record registered"}},
		{"second passkey approved by the first", []audit.Record{owner.registered(t, 1, "pk1", ""), owner.approved(t, 2, "c9", KindPasskeyAdd, addOther),
			other.registered(t, 3, "pk2", "c9"), other.approved(t, 4, "c1", "grant", grant)}, nil},
		{"approval names another passkey than registered", []audit.Record{owner.registered(t, 1, "pk1", ""), owner.approved(t, 2, "c9", KindPasskeyAdd, addOther),
			newAuthenticator(t, 3).registered(t, 3, "pk3", "c9")},
			map[int64]string{3: "is not the passkey its approval (change c9) named"}},
		{"removed passkey", []audit.Record{owner.registered(t, 1, "pk1", ""),
			record(2, MethodRemoved, Removed{PasskeyID: "pk1", CredentialID: B64.EncodeToString(owner.credID)}), owner.approved(t, 3, "c1", "grant", grant)},
			map[int64]string{3: "or which was removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(tt.recs...)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %v, want %d like %v", got, len(tt.want), tt.want)
			}
			for seq, want := range tt.want {
				if !strings.Contains(got[seq], want) {
					t.Errorf("record %d: problem %q, want it to say %q", seq, got[seq], want)
				}
			}
		})
	}
}

// TestVerifyAssertion: each part of an assertion is checked.
func TestVerifyAssertion(t *testing.T) {
	a := newAuthenticator(t, 1)
	ch := Challenge([]byte(`{"kind":"resume"}`), []byte("nonce-nonce-nonce"))
	authData, clientData, sig := a.sign(t, ch)
	if err := VerifyAssertion(a.cose(t), "localhost", ch, authData, clientData, sig); err != nil {
		t.Fatalf("a good assertion: %v", err)
	}
	noUV := append([]byte(nil), authData...)
	noUV[32] = flagUserPresent
	otherCh := Challenge([]byte(`{"kind":"grant"}`), []byte("nonce-nonce-nonce"))
	for name, c := range map[string]struct {
		rp                    string
		ch, ad, cd, signature []byte
		want                  string
	}{
		"other challenge":    {"localhost", otherCh, authData, clientData, sig, "not this change's"},
		"other rp":           {"example.com", ch, authData, clientData, sig, "another relying party"},
		"user not verified":  {"localhost", ch, noUV, clientData, sig, "did not verify the user"},
		"create, not get":    {"localhost", ch, authData, []byte(`{"type":"webauthn.create","challenge":"` + B64.EncodeToString(ch) + `"}`), sig, "not webauthn.get"},
		"signature of other": {"localhost", ch, authData, clientData, sig[:len(sig)-2], "does not verify"},
	} {
		err := VerifyAssertion(a.cose(t), c.rp, c.ch, c.ad, c.cd, c.signature)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}
