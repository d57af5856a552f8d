package delegatetest

import (
	"encoding/binary"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// What other contracts expect of an account with code: ERC-1271 signatures,
// ERC-721/1155 receiver hooks and ERC-165, all asked with eth_call of the
// owner's address on the real EVM, so they run the delegate through the
// 7702 delegation.

var (
	erc1271Valid   = [4]byte{0x16, 0x26, 0xba, 0x7e}
	erc1271Invalid = [4]byte{0xff, 0xff, 0xff, 0xff}
	// secp256k1's group order n.
	secp256k1N, _ = new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)
)

// sign65 is a's signature of hash as (r, s, v) with v 27 or 28.
func sign65(t testing.TB, a *account, hash common.Hash) []byte {
	t.Helper()
	sig, err := crypto.Sign(hash[:], a.key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return sig
}

// compact is the EIP-2098 form of a 65-byte signature: r, yParity<<255 | s.
func compact(sig []byte) []byte {
	out := append([]byte(nil), sig[:64]...)
	if sig[64] == 28 {
		out[32] |= 0x80
	}
	return out
}

// twin is the malleable twin of a 65-byte signature: (r, n-s, the other v),
// which recovers the same signer.
func twin(sig []byte) []byte {
	s := new(big.Int).SetBytes(sig[32:64])
	out := append([]byte(nil), sig[:32]...)
	out = append(out, common.BigToHash(new(big.Int).Sub(secp256k1N, s)).Bytes()...)
	return append(out, 27+28-sig[64])
}

// isValidSignature asks account at (the owner, or another address running
// the delegate) with from as msg.sender.
func (e *env) isValidSignature(at, from common.Address, hash common.Hash, sig []byte) [4]byte {
	e.t.Helper()
	out, err := bind.Call(delegateABI.Instance(e.client, at), &bind.CallOpts{Context: e.ctx, From: from},
		delegateABI.PackIsValidSignature(hash, sig), delegateABI.UnpackIsValidSignature)
	if err != nil {
		e.t.Fatalf("isValidSignature: %v%s", err, e.explain(err))
	}
	return out
}

func TestIsValidSignature(t *testing.T) {
	e := newEnv(t, envConfig{})
	// A session key with a grant that allows everything still cannot sign
	// for the owner.
	e.grant(e.session.addr, e.fullAccess(maxUint256))
	owner := e.owner.addr
	hash := crypto.Keccak256Hash([]byte("a Permit2 permit, say"))
	other := crypto.Keccak256Hash([]byte("something else"))
	sig := sign65(t, e.owner, hash)

	// The twin is a real signature by the owner (so only the low-s rule
	// refuses it), and the test's hash gives a low-s original.
	if s := new(big.Int).SetBytes(sig[32:64]); s.Cmp(new(big.Int).Rsh(secp256k1N, 1)) > 0 {
		t.Fatalf("crypto.Sign returned high s %x", s)
	}
	rawTwin := append(twin(sig)[:64:64], twin(sig)[64]-27)
	if pub, err := crypto.SigToPub(hash[:], rawTwin); err != nil || crypto.PubkeyToAddress(*pub) != owner {
		t.Fatalf("the high-s twin does not recover the owner (err %v); the test would prove nothing", err)
	}

	withV := func(v byte) []byte {
		out := append([]byte(nil), sig...)
		out[64] = v
		return out
	}
	halfPlusOne := new(big.Int).Add(new(big.Int).Rsh(secp256k1N, 1), big.NewInt(1))
	highS := append(append(append([]byte(nil), sig[:32]...), common.BigToHash(halfPlusOne).Bytes()...), sig[64])
	wrongParity := compact(sig)
	wrongParity[32] ^= 0x80
	compactHighS := append(append([]byte(nil), sig[:32]...), common.BigToHash(halfPlusOne).Bytes()...)

	tests := []struct {
		name string
		hash common.Hash
		sig  []byte
		want [4]byte
	}{
		{"owner's signature", hash, sig, erc1271Valid},
		{"owner's signature, EIP-2098 compact", hash, compact(sig), erc1271Valid},
		{"owner's signature of another hash", hash, sign65(t, e.owner, other), erc1271Invalid},
		{"owner's signature, asked about another hash", other, sig, erc1271Invalid},
		{"session key's signature", hash, sign65(t, e.session, hash), erc1271Invalid},
		{"session key's signature, compact", hash, compact(sign65(t, e.session, hash)), erc1271Invalid},
		{"stranger's signature", hash, sign65(t, e.stranger, hash), erc1271Invalid},
		{"high-s twin of the owner's signature", hash, twin(sig), erc1271Invalid},
		{"s = n/2 + 1", hash, highS, erc1271Invalid},
		{"compact with s = n/2 + 1", hash, compactHighS, erc1271Invalid},
		{"compact with the wrong yParity", hash, wrongParity, erc1271Invalid},
		{"v as 0/1 (raw crypto.Sign output)", hash, withV(sig[64] - 27), erc1271Invalid},
		{"v = 0", hash, withV(0), erc1271Invalid},
		{"v = 1", hash, withV(1), erc1271Invalid},
		{"v = 29", hash, withV(29), erc1271Invalid},
		{"v + 8 (EIP-155 style)", hash, withV(sig[64] + 8), erc1271Invalid},
		{"the other v", hash, withV(27 + 28 - sig[64]), erc1271Invalid},
		{"empty", hash, nil, erc1271Invalid},
		{"63 bytes", hash, sig[:63], erc1271Invalid},
		{"66 bytes", hash, append(append([]byte(nil), sig...), 0), erc1271Invalid},
		{"65 bytes with trailing word", hash, append(append([]byte(nil), sig...), make([]byte, 32)...), erc1271Invalid},
		{"all zeros, v = 27", hash, withZeros(65, 27), erc1271Invalid},
		{"all zeros, compact", hash, withZeros(64, 0), erc1271Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			if got := e.isValidSignature(owner, e.stranger.addr, tt.hash, tt.sig); got != tt.want {
				t.Errorf("isValidSignature = %x, want %x", got, tt.want)
			}
		})
	}

	t.Run("asked by a contract", func(t *testing.T) {
		// Verifiers are contracts; msg.sender does not matter.
		e := e.sub(t)
		for _, from := range []common.Address{e.router, e.usdc.Address, {}} {
			if got := e.isValidSignature(owner, from, hash, sig); got != erc1271Valid {
				t.Errorf("isValidSignature from %s = %x, want %x", from, got, erc1271Valid)
			}
		}
	})

	t.Run("the implementation is nobody's account", func(t *testing.T) {
		// At the implementation address, address(this) is the contract,
		// whose key nobody has.
		e := e.sub(t)
		if got := e.isValidSignature(e.delegate, e.stranger.addr, hash, sig); got != erc1271Invalid {
			t.Errorf("isValidSignature at the implementation = %x, want %x", got, erc1271Invalid)
		}
	})

	t.Run("revocation does not matter", func(t *testing.T) {
		// The owner's key is the account; sessions have nothing to do with it.
		e := e.sub(t)
		e.mustSend(e.owner, &owner, nil, delegateABI.PackRevokeAll())
		if got := e.isValidSignature(owner, e.stranger.addr, hash, sig); got != erc1271Valid {
			t.Errorf("isValidSignature after revokeAll = %x, want %x", got, erc1271Valid)
		}
	})
}

func withZeros(n int, last byte) []byte {
	b := make([]byte, n)
	b[n-1] = last
	return b
}

func TestReceiverHooks(t *testing.T) {
	e := newEnv(t, envConfig{})
	owner := e.owner.addr
	call := func(from common.Address, data []byte, unpack func([]byte) ([4]byte, error)) [4]byte {
		t.Helper()
		out, err := bind.Call(e.instance(), &bind.CallOpts{Context: e.ctx, From: from}, data, unpack)
		if err != nil {
			t.Fatalf("call: %v%s", err, e.explain(err))
		}
		return out
	}
	ids := []*big.Int{big.NewInt(1), big.NewInt(2)}
	amounts := []*big.Int{big.NewInt(10), big.NewInt(20)}
	tests := []struct {
		name string
		sig  string
		got  [4]byte
	}{
		{"onERC721Received", "onERC721Received(address,address,uint256,bytes)",
			call(e.usdc.Address, delegateABI.PackOnERC721Received(e.stranger.addr, e.stranger.addr, big.NewInt(7), []byte("data")), delegateABI.UnpackOnERC721Received)},
		{"onERC1155Received", "onERC1155Received(address,address,uint256,uint256,bytes)",
			call(e.usdc.Address, delegateABI.PackOnERC1155Received(e.stranger.addr, common.Address{}, big.NewInt(7), big.NewInt(3), nil), delegateABI.UnpackOnERC1155Received)},
		{"onERC1155BatchReceived", "onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)",
			call(e.router, delegateABI.PackOnERC1155BatchReceived(e.stranger.addr, e.stranger.addr, ids, amounts, []byte{1}), delegateABI.UnpackOnERC1155BatchReceived)},
	}
	for _, tt := range tests {
		if want := selector(tt.sig); tt.got != want {
			t.Errorf("%s on the owner returned %x, want its selector %x", tt.name, tt.got, want)
		}
	}
	// The hooks change nothing: a real transaction calling one succeeds.
	r := e.mustSend(e.stranger, &owner, nil, delegateABI.PackOnERC721Received(e.stranger.addr, e.stranger.addr, big.NewInt(7), nil))
	if len(r.Logs) != 0 {
		t.Errorf("onERC721Received logged %d events, want none", len(r.Logs))
	}
}

func TestSupportsInterface(t *testing.T) {
	e := newEnv(t, envConfig{})
	xor := func(sigs ...string) [4]byte {
		var id uint32
		for _, s := range sigs {
			sel := selector(s)
			id ^= binary.BigEndian.Uint32(sel[:])
		}
		var out [4]byte
		binary.BigEndian.PutUint32(out[:], id)
		return out
	}
	tests := []struct {
		name string
		id   [4]byte
		want bool
	}{
		{"ERC-165", xor("supportsInterface(bytes4)"), true},
		{"IERC721Receiver", xor("onERC721Received(address,address,uint256,bytes)"), true},
		{"IERC1155Receiver", xor("onERC1155Received(address,address,uint256,uint256,bytes)", "onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)"), true},
		{"IERC1271", xor("isValidSignature(bytes32,bytes)"), true},
		{"0xffffffff (ERC-165's invalid id)", [4]byte{0xff, 0xff, 0xff, 0xff}, false},
		{"zero", [4]byte{}, false},
		{"IERC721 (not a token)", [4]byte{0x80, 0xac, 0x58, 0xcd}, false},
		{"IERC1155 (not a token)", [4]byte{0xd9, 0xb6, 0x7a, 0x26}, false},
		{"IERC20-ish transfer", selTransfer, false},
	}
	// The ids the contract names as literals are the ones computed here.
	for id, want := range map[[4]byte]string{
		tests[0].id: "01ffc9a7", tests[1].id: "150b7a02", tests[2].id: "4e2312e0", tests[3].id: "1626ba7e",
	} {
		if got := common.Bytes2Hex(id[:]); got != want {
			t.Fatalf("computed interface id %s, want %s", got, want)
		}
	}
	for _, tt := range tests {
		got, err := bind.Call(e.instance(), e.opts(), delegateABI.PackSupportsInterface(tt.id), delegateABI.UnpackSupportsInterface)
		if err != nil {
			t.Fatalf("supportsInterface(%x): %v", tt.id, err)
		}
		if got != tt.want {
			t.Errorf("supportsInterface(%s %x) = %v, want %v", tt.name, tt.id, got, tt.want)
		}
	}
}
