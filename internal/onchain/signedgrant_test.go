package onchain

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/google/go-cmp/cmp"
)

// The type string docs/onchain.md gives and AgentKeyDelegate hashes; the
// contract's agreement with it is TestOwnerOfflineDigestMatchesContract in
// contracts/delegatetest.
const sessionGrantType = "SessionGrant(address session,SessionConfig config,uint256 stipend,uint32 epoch,uint64 nonce,uint64 deadline)" +
	"Condition(Loc loc,uint8 op,bool signed_,uint8 valueKind,bytes32[] values)" +
	"Loc(uint32 head,bool indirect,uint32 inner)" +
	"Permission(address target,bytes4 selector,bool anySelector,bool emptyCalldata,Condition[] conditions)" +
	"SessionConfig(uint48 validAfter,uint48 validUntil,uint32 period,uint256 maxValuePerCall,uint256 nativePerPeriod,uint256 maxCalls,Permission[] permissions,SpendRule[] spendRules,TokenLimit[] tokenLimits)" +
	"SpendRule(bytes4 selector,uint8 tokenKind,Loc token,Loc amount)" +
	"TokenLimit(address token,uint256 perTx,uint256 perPeriod)"

func testGrant() SignedGrant {
	return SignedGrant{
		Session: common.HexToAddress("0x00000000000000000000000000000000005e5510"),
		Config: Config{
			ValidAfter: 1_700_000_000, ValidUntil: 1_700_086_400, Period: 86400,
			MaxValuePerCall: big.NewInt(1e17), NativePerPeriod: big.NewInt(5e17), MaxCalls: new(big.Int),
			Permissions: []Permission{
				{Target: common.HexToAddress("0x7a25"), Selector: [4]byte{0x38, 0xed, 0x17, 0x39}, Conditions: []Condition{
					{Loc: Loc{Head: 96}, Op: OpEQ, ValueKind: ValueSelf},
					{Loc: Loc{Head: 0, Indirect: true, Inner: 32}, Op: OpIN, Signed: true, Values: [][32]byte{{1}, {2}}},
				}},
				{AnySelector: true},
			},
			SpendRules:  spendRules(),
			TokenLimits: []TokenLimit{{Token: common.HexToAddress("0xa0b8"), PerTx: big.NewInt(100e6), PerPeriod: NoCap}},
		},
		Epoch: 2, Nonce: 1 << 40, Deadline: 1_700_003_600,
	}
}

func TestSignedGrantTypedData(t *testing.T) {
	g := testGrant()
	chainID, account := big.NewInt(31337), common.HexToAddress("0x000000000000000000000000000000000000a11c")
	td := g.TypedData(chainID, account)
	if got := string(td.EncodeType(GrantPrimaryType)); got != sessionGrantType {
		t.Errorf("EIP-712 type of SessionGrant:\n got %s\nwant %s", got, sessionGrantType)
	}
	want, err := g.Digest(chainID, account)
	if err != nil {
		t.Fatal(err)
	}

	// What a wallet gets (eth_signTypedData_v4 takes it as JSON) hashes the same.
	text, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	var back apitypes.TypedData
	if err := json.Unmarshal(text, &back); err != nil {
		t.Fatal(err)
	}
	got, _, err := apitypes.TypedDataAndHash(back)
	if err != nil {
		t.Fatalf("hash the typed data after JSON: %v", err)
	}
	if common.BytesToHash(got) != want {
		t.Errorf("digest after a JSON round trip = %x, want %s", got, want)
	}

	// Everything signed changes the digest; a nil stipend is a zero one.
	changed := map[string]func(g *SignedGrant){
		"chain":          nil,
		"account":        nil,
		"stipend":        func(g *SignedGrant) { g.Stipend = big.NewInt(1) },
		"epoch":          func(g *SignedGrant) { g.Epoch++ },
		"nonce":          func(g *SignedGrant) { g.Nonce++ },
		"deadline":       func(g *SignedGrant) { g.Deadline++ },
		"session":        func(g *SignedGrant) { g.Session[19]++ },
		"condition sign": func(g *SignedGrant) { g.Config.Permissions[0].Conditions[1].Signed = false },
	}
	for name, f := range changed {
		h := testGrant()
		c, a := chainID, account
		switch name {
		case "chain":
			c = big.NewInt(1)
		case "account":
			a = g.Session
		default:
			f(&h)
		}
		if d, err := h.Digest(c, a); err != nil || d == want {
			t.Errorf("%s changed: digest %s (err %v), the same as before", name, d, err)
		}
	}
	zero := testGrant()
	zero.Stipend = new(big.Int)
	if d, err := zero.Digest(chainID, account); err != nil || d != want {
		t.Errorf("zero stipend: digest %s (err %v), want %s as with nil", d, err, want)
	}
}

func TestPackGrantWithSignature(t *testing.T) {
	g := testGrant()
	sig := make([]byte, 65)
	sig[64] = 27
	data, err := PackGrantWithSignature(g, sig)
	if err != nil {
		t.Fatal(err)
	}
	m := delegateABI.GetABI().Methods["grantWithSignature"]
	if string(data[:4]) != string(m.ID) {
		t.Fatalf("selector %x, want grantWithSignature's %x", data[:4], m.ID)
	}
	args, err := m.Inputs.Unpack(data[4:])
	if err != nil {
		t.Fatal(err)
	}
	got := []any{args[0], args[2], args[3], args[4], args[5], args[6]}
	want := []any{g.Session, new(big.Int), g.Epoch, g.Nonce, g.Deadline, sig}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("grantWithSignature arguments (-want +got):\n%s", diff)
	}
	// The config's place is proven on the EVM: the contract's digest of what
	// was packed must equal the one signed over g.Config
	// (TestOwnerOfflineGrantBySignature in contracts/delegatetest).
	if got, want := PackRevokeSelf(), delegateABI.GetABI().Methods["revokeSelf"].ID; string(got) != string(want) {
		t.Errorf("PackRevokeSelf() = %x, want %x", got, want)
	}
}
