package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAdminRotate: `agentkeys admin rotate` against the home of a running
// daemon prints a new admin credential once; the daemon refuses the old
// one from the next request and takes the new one, the rotation is an
// audit record naming the credential ids and nothing secret, and a wrong
// passphrase rotates nothing.
func TestAdminRotate(t *testing.T) {
	dir, oldCred, chain := newServeHome(t)
	d := runServe(t, dir, chain.URL())
	status := func(token string) int {
		code, _ := httpDo(t, http.DefaultClient, "GET", d.adminURL+"/v1/grants", token, "", nil)
		return code
	}
	if got := status(oldCred.Reveal()); got != http.StatusOK {
		t.Fatalf("old credential before the rotation: HTTP %d", got)
	}

	t.Setenv("AGENTKEYS_PASSPHRASE", "wrong passphrase")
	if _, errOut, code := run(t, "", "admin", "rotate", "--home", dir); code == 0 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("rotate with a wrong passphrase: exit %d: %s", code, errOut)
	}
	if got := status(oldCred.Reveal()); got != http.StatusOK {
		t.Fatalf("a failed rotation changed the credential: HTTP %d", got)
	}

	t.Setenv("AGENTKEYS_PASSPHRASE", deployPassphrase)
	out, errOut, code := run(t, "", "admin", "rotate", "--home", dir, "-o", "json")
	var res struct {
		Token string `json:"admin_token"`
		ID    string `json:"credential_id"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !strings.HasPrefix(res.Token, "akadm_") {
		t.Fatalf("rotate: exit %d: %s %s", code, out, errOut)
	}
	if got := status(oldCred.Reveal()); got != http.StatusUnauthorized {
		t.Errorf("old credential after the rotation: HTTP %d, want 401", got)
	}
	if got := status(res.Token); got != http.StatusOK {
		t.Errorf("new credential: HTTP %d, want 200", got)
	}

	tail, _, _ := run(t, "", "audit", "tail", "--home", dir, "-o", "json")
	if !strings.Contains(tail, `"method":"agentkeys_adminCredentialRotated"`) || !strings.Contains(tail, res.ID) {
		t.Errorf("no rotation record naming %s: %s", res.ID, tail)
	}
	if strings.Contains(tail, res.Token) || strings.Contains(tail, oldCred.Reveal()) {
		t.Error("the audit log holds an admin credential")
	}
}
