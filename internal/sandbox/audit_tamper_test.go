package sandbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", to tamper as someone with the file would

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/cli"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/sandbox"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// This file is an external test package so it can run the real CLI
// (internal/cli imports sandbox) in-process.

// tamperHome runs a sandbox with some traffic, closes it and returns its
// home dir and the seq of every record that refused a request.
func tamperHome(t *testing.T) (dir string, denied []int64) {
	t.Helper()
	dir = t.TempDir()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	now := sandbox.TestEpoch(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{Home: dir, Passphrase: []byte("sandbox test passphrase"), KDF: &kdf,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	post := func(url, token string, body any) []byte {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return out
	}
	var g struct{ Token string }
	if err := json.Unmarshal(post(sb.Info.AdminURL+"/v1/grants", sb.AdminToken,
		map[string]any{"agent": "bot", "profile": "swap-only", "routers": []string{sb.Info.Router}}), &g); err != nil || g.Token == "" {
		t.Fatalf("grant: %v %+v", err, g)
	}
	rpc := func(token, method string, params ...any) {
		if params == nil {
			params = []any{}
		}
		post(sb.Info.RPCURL, token, map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	}
	rpc(g.Token, "eth_chainId")
	rpc(g.Token, "eth_blockNumber")
	rpc(g.Token, "eth_signTransaction", map[string]any{"to": sb.Info.Tokens["USDC"], "data": "0xa9059cbb" + strings.Repeat("0", 128)}) // transfer: refused
	rpc(g.Token, "personal_sign", "0x68656c6c6f", sb.Info.Owner)                                                                       // refused
	rpc("ak_aaaaaaaaaaaa_"+strings.Repeat("0", 64), "eth_chainId")                                                                     // unknown credential
	rpc(g.Token, "agentkeys_getPermissions")
	tr.CloseIdleConnections()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := home.OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.AuditRecords(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Decision == audit.DecisionDeny {
			denied = append(denied, r.Seq)
		}
	}
	if len(recs) < 7 || len(denied) < 3 {
		t.Fatalf("the session left %d records, %d of them refusals; want at least 7 and 3", len(recs), len(denied))
	}
	return dir, denied
}

// copyHome copies every file of a closed home into a new dir.
func copyHome(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if !en.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, en.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

type finding struct {
	Seq  int64
	Kind audit.ProblemKind
}

// verifyCLI runs `agentkeys audit verify --home dir -o json` in-process.
func verifyCLI(t *testing.T, dir string) (exit int, ok bool, found []finding, out string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	exit = cli.Main(context.Background(), []string{"audit", "verify", "--home", dir, "--output", "json"},
		cli.IO{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
	var rep struct {
		OK       bool            `json:"ok"`
		Problems []audit.Problem `json:"problems"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("audit verify -o json printed no JSON report (exit %d): %v\nstdout: %s\nstderr: %s", exit, err, &stdout, &stderr)
	}
	for _, p := range rep.Problems {
		found = append(found, finding{p.Seq, p.Kind})
	}
	return exit, rep.OK, found, stdout.String() + stderr.String()
}

// verifyStore checks the same home with audit.Verifier against the
// stored head, as `audit verify` does.
func verifyStore(t *testing.T, dir string) []finding {
	t.Helper()
	ctx := context.Background()
	st, err := home.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	head, err := st.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier(audit.GenesisHead())
	for after := int64(0); ; {
		recs, err := st.AuditRecords(ctx, after, 3) // small pages: verification spans reads
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			v.Add(r)
		}
		after = recs[len(recs)-1].Seq
	}
	var found []finding
	for _, p := range v.Report(&head).Problems {
		found = append(found, finding{p.Seq, p.Kind})
	}
	return found
}

// TestAuditTamperDetected edits a closed home's database directly, as
// someone with access to the file would, and checks that `agentkeys audit
// verify` and audit.Verifier both name the tampering (Invariant 2's
// tamper-evident log).
func TestAuditTamperDetected(t *testing.T) {
	src, denied := tamperHome(t)
	ctx := context.Background()
	st, err := home.OpenStore(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.AuditHead(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	last, mid, deny := head.Seq, head.Seq/2, denied[len(denied)-1]

	tests := []struct {
		name string
		sql  []string
		want []finding
	}{
		{name: "untouched"},
		{
			name: "a record's reasons edited",
			sql:  []string{fmt.Sprintf(`UPDATE audit_records SET reasons = '["allowed by the owner"]' WHERE seq = %d`, deny)},
			want: []finding{{deny, audit.ProblemEdited}},
		},
		{
			name: "a refusal turned into an allow",
			sql:  []string{fmt.Sprintf(`UPDATE audit_records SET decision = 'allow', reasons = '[]' WHERE seq = %d`, deny)},
			want: []finding{{deny, audit.ProblemEdited}},
		},
		{
			name: "a caller address rewritten",
			sql:  []string{fmt.Sprintf(`UPDATE audit_records SET caller_ip = '10.0.0.1' WHERE seq = %d`, mid)},
			want: []finding{{mid, audit.ProblemEdited}},
		},
		{
			name: "a middle record deleted",
			sql:  []string{fmt.Sprintf(`DELETE FROM audit_records WHERE seq = %d`, mid)},
			want: []finding{{mid + 1, audit.ProblemMissing}},
		},
		{
			name: "the last record deleted",
			sql:  []string{fmt.Sprintf(`DELETE FROM audit_records WHERE seq = %d`, last)},
			want: []finding{{last, audit.ProblemTruncated}},
		},
		{
			name: "the last record deleted and the head's seq rolled back",
			sql:  []string{fmt.Sprintf(`DELETE FROM audit_records WHERE seq = %d`, last), fmt.Sprintf(`UPDATE audit_head SET seq = %d`, last-1)},
			want: []finding{{last - 1, audit.ProblemHead}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyHome(t, src)
			db, err := sql.Open("sqlite", filepath.Join(dir, home.DBFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range tt.sql {
				if res, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				} else if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("%s: %d rows affected, want 1", q, n)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			exit, ok, found, out := verifyCLI(t, dir)
			if diff := cmp.Diff(tt.want, found); diff != "" {
				t.Errorf("audit verify problems (-want +got):\n%s\n%s", diff, out)
			}
			if wantOK := len(tt.want) == 0; ok != wantOK || (exit == 0) != wantOK {
				t.Errorf("audit verify: ok %v exit %d, want ok %v\n%s", ok, exit, wantOK, out)
			}
			if diff := cmp.Diff(tt.want, verifyStore(t, dir)); diff != "" {
				t.Errorf("audit.Verifier problems (-want +got):\n%s", diff)
			}
		})
	}
}
