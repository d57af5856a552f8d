package delegatetest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The external interface is what the daemon is written against; it is
// spelled out here so that a change to it fails a test instead of surfacing
// as a decoding error elsewhere.
func TestInterface(t *testing.T) {
	a := delegateABI.GetABI()
	const (
		loc        = "(uint32,bool,uint32)"
		condition  = "(" + loc + ",uint8,bool,uint8,bytes32[])"
		permission = "(address,bytes4,bool,bool," + condition + "[])"
		spendRule  = "(bytes4,uint8," + loc + "," + loc + ")"
		tokenLimit = "(address,uint256,uint256)"
		config     = "(uint48,uint48,uint32,uint256,uint256,uint256," + permission + "[]," + spendRule + "[]," + tokenLimit + "[])"
	)
	wantMethods := []string{
		"check(address,address,uint256,bytes) view",
		"eip712Domain() view",
		"epoch() view",
		"execute(address,uint256,bytes) payable",
		"executeBatch((address,uint256,bytes)[]) payable",
		"grant(address," + config + ") nonpayable",
		"grantWithSignature(address," + config + ",uint256,uint32,uint64,uint64,bytes) nonpayable",
		"hashGrant(address," + config + ",uint256,uint32,uint64,uint64) view",
		"isValidSignature(bytes32,bytes) view",
		"nextNonce() view",
		"nonceUsed(uint64) view",
		"onERC1155BatchReceived(address,address,uint256[],uint256[],bytes) pure",
		"onERC1155Received(address,address,uint256,uint256,bytes) pure",
		"onERC721Received(address,address,uint256,bytes) pure",
		"remaining(address) view",
		"revoke(address) nonpayable",
		"revokeAll() nonpayable",
		"revokeSelf() nonpayable",
		"sessionInfo(address) view",
		"supportsInterface(bytes4) pure",
	}
	var gotMethods []string
	for _, m := range a.Methods {
		gotMethods = append(gotMethods, m.Sig+" "+m.StateMutability)
	}
	slices.Sort(gotMethods)
	if diff := cmp.Diff(wantMethods, gotMethods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(selGrant, [4]byte(a.Methods["grant"].ID)); diff != "" {
		t.Errorf("grant selector (-want +got):\n%s", diff)
	}

	wantOutputs := map[string]string{
		"check":                  "(bool,bytes)",
		"sessionInfo":            "(uint48,uint48,uint32,bool,uint256,uint256)",
		"remaining":              "(uint256,address[],uint256[])",
		"epoch":                  "(uint32)",
		"execute":                "(bytes)",
		"isValidSignature":       "(bytes4)",
		"onERC721Received":       "(bytes4)",
		"onERC1155Received":      "(bytes4)",
		"onERC1155BatchReceived": "(bytes4)",
		"supportsInterface":      "(bool)",
		"hashGrant":              "(bytes32)",
		"nextNonce":              "(uint256)",
		"nonceUsed":              "(bool)",
		"eip712Domain":           "(bytes1,string,string,uint256,address,bytes32,uint256[])",
	}
	for name, want := range wantOutputs {
		got := "("
		for i, o := range a.Methods[name].Outputs {
			if i > 0 {
				got += ","
			}
			got += o.Type.String()
		}
		if got += ")"; got != want {
			t.Errorf("%s returns %s, want %s", name, got, want)
		}
	}

	wantEvents := []string{
		"AllSessionsRevoked(uint32)",
		"Executed(address,address,bytes4,uint256)",
		"SessionGranted(address,uint48,uint48,uint32)",
		"SessionRevoked(address)",
	}
	var gotEvents []string
	for _, e := range a.Events {
		gotEvents = append(gotEvents, e.Sig)
	}
	slices.Sort(gotEvents)
	if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	wantErrors := []string{
		"BadCalldata()",
		"BadSignature()",
		"CallFailed(bytes)",
		"ConditionFailed(uint256,uint256)",
		"Expired()",
		"InvalidConfig()",
		"NativeBudgetExceeded(uint256,uint256)",
		"NoPermission(address,bytes4)",
		"NonceUsed()",
		"NotSelf()",
		"NotSession()",
		"NotYetValid()",
		"Revoked()",
		"SessionExists()",
		"SignatureExpired()",
		"StaleEpoch()",
		"TokenBudgetExceeded(address,uint256,uint256)",
		"TokenPerTxExceeded(address,uint256,uint256)",
		"TooManyCalls()",
		"UncappedToken(address)",
		"ValueTooHigh(uint256,uint256)",
	}
	var gotErrors []string
	for _, e := range a.Errors {
		gotErrors = append(gotErrors, e.Sig)
	}
	slices.Sort(gotErrors)
	if diff := cmp.Diff(wantErrors, gotErrors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if !a.HasReceive() || a.HasFallback() {
		t.Errorf("receive %v, fallback %v; want a receive function and no fallback", a.HasReceive(), a.HasFallback())
	}
}
