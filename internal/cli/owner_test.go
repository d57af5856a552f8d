package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/passkey"
	"github.com/agentkeys/agentkeys/internal/store"
)

// TestOwnerCommands: owner passkey add prints a one-time link and opens
// nothing; once a passkey is registered, key grant and key resume answer
// pending_approval with the change and its approval URL (-o json and
// text), the changes are listed, shown and rejected, removing the last
// passkey waits for one too, and a revoke acts at once.
func TestOwnerCommands(t *testing.T) {
	dir, sb := startSandbox(t)
	t.Setenv("AGENTKEYS_ADMIN_URL", "")
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", "")
	base := strings.Replace(sb.Info.AdminURL, "127.0.0.1", "localhost", 1)

	out, errOut, code := run(t, "", "owner", "passkey", "add", "--home", dir, "-o", "json")
	var link struct{ URL string }
	if code != 0 || json.Unmarshal([]byte(out), &link) != nil || !strings.HasPrefix(link.URL, base+"/ui/enroll#") || len(link.URL) < len(base)+40 {
		t.Fatalf("owner passkey add (exit %d): %s %s", code, out, errOut)
	}
	out, _, code = run(t, "", "owner", "passkey", "add", "--home", dir)
	if code != 0 || !strings.Contains(out, "Open this link once") || strings.Contains(out, link.URL) {
		t.Errorf("a second link (exit %d) must be new:\n%s", code, out)
	}
	out, _, code = run(t, "", "owner", "passkey", "list", "--home", dir)
	if code != 0 || !strings.Contains(out, "No passkeys") {
		t.Errorf("passkey list before any (exit %d):\n%s", code, out)
	}

	early, _ := grantFullAccess(t, dir, "early") // active: granted before any passkey

	// A passkey as a finished registration stores it (the ceremony runs
	// in the browser tests).
	call, _ := json.Marshal(passkey.Registered{PasskeyID: "pk_1", Name: "laptop", CredentialID: "AQID", PublicKey: "pQ", RPID: "localhost"})
	ctx := context.Background()
	if _, err := sb.Home.Store.AddPasskey(ctx, store.Passkey{ID: "pk_1", Name: "laptop", CredentialID: []byte{1, 2, 3}, PublicKey: []byte{0xa5},
		Credential: json.RawMessage(`{}`), CreatedAt: time.Now()}, audit.Record{Time: time.Now(), Method: passkey.MethodRegistered, Call: call,
		Decision: audit.DecisionAllow, Reasons: []string{}}); err != nil {
		t.Fatal(err)
	}

	out, errOut, code = run(t, "", "key", "grant", "--home", dir, "--agent", "trader", "--profile", "read-only", "-o", "json")
	var g struct {
		KeyID      string `json:"key_id"`
		Token      string `json:"token"`
		Status     string `json:"status"`
		ChangeID   string `json:"change_id"`
		ApproveURL string `json:"approve_url"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil {
		t.Fatalf("grant (exit %d): %s %s", code, out, errOut)
	}
	if g.Status != "pending_approval" || !strings.HasPrefix(g.Token, "ak_") || g.ApproveURL != base+"/ui/approvals/"+g.ChangeID {
		t.Fatalf("grant with a passkey = %+v", g)
	}
	text, _, code := run(t, "", "key", "grant", "--home", dir, "--agent", "second", "--profile", "read-only")
	if code != 0 || !strings.Contains(text, "status:     pending_approval") || !strings.Contains(text, "approve at: "+base+"/ui/approvals/chg_") {
		t.Errorf("text grant (exit %d):\n%s", code, text)
	}

	out, _, code = run(t, "", "owner", "change", "show", "--home", dir, g.ChangeID)
	if code != 0 || !strings.Contains(out, "pending_approval: Give agent trader a new wallet-mode key "+g.KeyID) || !strings.Contains(out, "approve at: "+g.ApproveURL) {
		t.Errorf("change show (exit %d):\n%s", code, out)
	}
	out, _, code = run(t, "", "owner", "change", "list", "--home", dir, "--state", "pending")
	if code != 0 || strings.Count(out, "pending_approval") != 2 {
		t.Errorf("change list (exit %d):\n%s", code, out)
	}
	out, _, code = run(t, "", "owner", "change", "reject", "--home", dir, g.ChangeID, "-o", "json")
	if code != 0 || !strings.Contains(out, `"state": "rejected"`) {
		t.Errorf("change reject (exit %d):\n%s", code, out)
	}
	out, _, _ = run(t, "", "key", "show", "--home", dir, g.KeyID)
	if !strings.Contains(out, "status:     revoked") {
		t.Errorf("the rejected grant's key:\n%s", out)
	}

	// Resume waits; suspend and revoke do not.
	id := early
	if _, _, code := run(t, "", "key", "suspend", "--home", dir, id); code != 0 {
		t.Fatalf("suspend: exit %d", code)
	}
	out, _, code = run(t, "", "key", "resume", "--home", dir, id, "-o", "json")
	if code != 0 || !strings.Contains(out, `"status": "pending_approval"`) || !strings.Contains(out, `"kind": "resume"`) {
		t.Errorf("resume with a passkey (exit %d):\n%s", code, out)
	}
	out, _, code = run(t, "", "key", "revoke", "--home", dir, id)
	if code != 0 || !strings.Contains(out, "revoked "+id) {
		t.Errorf("revoke (exit %d):\n%s", code, out)
	}

	// The last passkey goes only with a passkey's approval.
	out, _, code = run(t, "", "owner", "passkey", "remove", "--home", dir, "pk_1")
	if code != 0 || !strings.Contains(out, "pending_approval: Remove the last passkey") {
		t.Errorf("removing the last passkey (exit %d):\n%s", code, out)
	}
	out, _, _ = run(t, "", "owner", "passkey", "list", "--home", dir)
	if !strings.Contains(out, "pk_1") {
		t.Errorf("the last passkey is gone before approval:\n%s", out)
	}
}
