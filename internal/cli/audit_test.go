package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/secrets"
	"github.com/agentkeys/agentkeys/internal/syncbuf"
)

var auditT0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// newAuditHome creates a home (cheap KDF: these tests are about the log)
// holding n audit records, and returns its directory.
func newAuditHome(t *testing.T, n int) string {
	t.Helper()
	kdf, err := secrets.NewKDFParams()
	if err != nil {
		t.Fatal(err)
	}
	kdf.N = 1 << 10
	dir := filepath.Join(t.TempDir(), "ak")
	h, _, err := home.Init(t.Context(), dir, home.InitOptions{Passphrase: []byte(testPassphrase), KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	appendRecords(t, dir, 1, n)
	return dir
}

// appendRecords appends records first..first+n-1 through the store, as the
// daemon would.
func appendRecords(t *testing.T, dir string, first, n int) {
	t.Helper()
	st, err := home.OpenStore(context.Background(), dir)
	if err != nil {
		t.Error(err)
		return
	}
	defer st.Close()
	for i := first; i < first+n; i++ {
		r := audit.Record{
			Time: auditT0.Add(time.Duration(i) * time.Second), KeyID: "key" + fmt.Sprint(i%3),
			Method: "eth_sendTransaction", Decision: audit.DecisionAllow,
			Reasons: []string{fmt.Sprintf("allowed by rule %d", i)}, TxHash: fmt.Sprintf("0x%064x", i),
			CallerIP: "127.0.0.1", Call: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		}
		if i%2 == 0 {
			r.Decision, r.Reasons, r.TxHash = audit.DecisionDeny, []string{"transfer is not allowed", "over the daily cap"}, ""
		}
		if _, err := st.AppendAudit(context.Background(), r); err != nil {
			t.Error(err)
			return
		}
	}
}

func headOf(t *testing.T, dir string) audit.Head {
	t.Helper()
	st, err := home.OpenStore(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rawSQL runs statements on the database file directly, as someone with
// write access to the disk could.
func rawSQL(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, home.DBFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

type verifyJSON struct {
	OK       bool            `json:"ok"`
	Records  int             `json:"records"`
	HeadSeq  int64           `json:"head_seq"`
	HeadHash string          `json:"head_hash"`
	Problems []audit.Problem `json:"problems"`
}

func TestAuditVerifyOK(t *testing.T) {
	for _, tt := range []struct {
		name     string
		records  int
		pageSize int
	}{
		{"empty log", 0, 1000},
		{"one page", 5, 1000},
		{"several pages", 7, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := auditPageSize
			auditPageSize = tt.pageSize
			t.Cleanup(func() { auditPageSize = old })
			dir := newAuditHome(t, tt.records)
			t.Setenv(home.EnvPassphrase, "") // verify needs none
			head := headOf(t, dir)

			out, errOut, code := run(t, "", "audit", "verify", "--home", dir)
			want := fmt.Sprintf("audit log OK: %d records, head seq %d hash %s\n", tt.records, tt.records, hex.EncodeToString(head.Hash))
			first, rate, _ := strings.Cut(out, "\n")
			if code != 0 || first+"\n" != want || !regexp.MustCompile(`^verified in \d+\.\d\ds: \d+ records/s\n$`).MatchString(rate) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %q and the rate", code, out, errOut, want)
			}

			out, errOut, code = run(t, "", "audit", "verify", "--home", dir, "--output", "json")
			var got verifyJSON
			if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			wantJSON := verifyJSON{OK: true, Records: tt.records, HeadSeq: int64(tt.records), HeadHash: hex.EncodeToString(head.Hash), Problems: []audit.Problem{}}
			if diff := cmp.Diff(wantJSON, got); diff != "" {
				t.Errorf("json (-want +got):\n%s", diff)
			}
			if !strings.Contains(out, `"problems": []`) {
				t.Errorf("problems should be an empty array, not null: %s", out)
			}
			if !regexp.MustCompile(`"seconds": [0-9.e-]+,\s+"records_per_s": [0-9.e+]+`).MatchString(out) {
				t.Errorf("no time or rate in the json: %s", out)
			}
		})
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name      string
		sql       []string
		wantKinds []audit.ProblemKind
		wantLine  string
	}{
		{
			name:      "edit reasons",
			sql:       []string{`UPDATE audit_records SET reasons = '["allowed by the owner"]' WHERE seq = 3`},
			wantKinds: []audit.ProblemKind{audit.ProblemEdited},
			wantLine:  "  record 3: edited: content does not match its hash",
		},
		{
			name:      "delete a middle record",
			sql:       []string{`DELETE FROM audit_records WHERE seq = 3`},
			wantKinds: []audit.ProblemKind{audit.ProblemMissing},
			wantLine:  "  record 4: missing: record 3 is missing",
		},
		{
			name:      "delete the last record",
			sql:       []string{`DELETE FROM audit_records WHERE seq = 5`},
			wantKinds: []audit.ProblemKind{audit.ProblemTruncated},
			wantLine:  "  record 5: truncated: the log ends at record 4 but the head is at 5",
		},
		{
			name: "insert a record past the head",
			sql: []string{`INSERT INTO audit_records
				(seq, time, key_id, method, call, decision, reasons, tx_hash, caller_ip, request_id, user_agent, prev_hash, hash)
				SELECT seq + 1, time, key_id, method, call, decision, reasons, tx_hash, caller_ip, request_id, user_agent, hash, hash
				FROM audit_records WHERE seq = 5`},
			wantKinds: []audit.ProblemKind{audit.ProblemEdited, audit.ProblemHead},
			wantLine:  "  record 6: head-mismatch: the log continues past the head",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newAuditHome(t, 5)
			rawSQL(t, dir, tt.sql...)

			out, errOut, code := run(t, "", "audit", "verify", "--home", dir)
			if code == 0 {
				t.Fatalf("verify passed a tampered log:\n%s", out)
			}
			if !strings.HasPrefix(out, "audit log FAILED: ") || !strings.Contains(out, tt.wantLine) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantLine, out)
			}
			if !strings.Contains(errOut, "log fails verification") {
				t.Errorf("stderr %q", errOut)
			}

			out, _, code = run(t, "", "audit", "verify", "--home", dir, "-o", "json")
			var got verifyJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil || code == 0 {
				t.Fatalf("exit %d, %v: %s", code, err, out)
			}
			var kinds []audit.ProblemKind
			for _, p := range got.Problems {
				kinds = append(kinds, p.Kind)
			}
			if got.OK || got.HeadSeq != 5 || !cmp.Equal(kinds, tt.wantKinds) {
				t.Errorf("json: ok %v, head %d, kinds %v; want kinds %v", got.OK, got.HeadSeq, kinds, tt.wantKinds)
			}
		})
	}
}

func TestAuditNeedsAHome(t *testing.T) {
	t.Setenv(home.EnvHome, "")
	for _, args := range [][]string{{"audit", "verify"}, {"audit", "tail"}} {
		dir := t.TempDir()
		_, errOut, code := run(t, "", append(args, "--home", dir)...)
		if code == 0 || !strings.Contains(errOut, "run agentkeys init") {
			t.Errorf("%v on an empty dir: exit %d, stderr %q", args, code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, home.DBFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v created a database in a directory that is not a home", args)
		}
	}
}

func tailLine(i int) string {
	s := fmt.Sprintf("%s  #%d  key=key%d  eth_sendTransaction  ", auditT0.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05.000Z"), i, i%3)
	if i%2 == 0 {
		return s + "deny  tx=-  ip=127.0.0.1  transfer is not allowed; over the daily cap"
	}
	return s + fmt.Sprintf("allow  tx=0x%064x  ip=127.0.0.1  allowed by rule %d", i, i)
}

func TestAuditTail(t *testing.T) {
	dir := newAuditHome(t, 25)
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			b.WriteString(tailLine(i) + "\n")
		}
		return b.String()
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, lines(6, 25)},
		{[]string{"-n", "3"}, lines(23, 25)},
		{[]string{"-n", "100"}, lines(1, 25)},
		{[]string{"-n", "0"}, ""},
	} {
		out, errOut, code := run(t, "", append([]string{"audit", "tail", "--home", dir}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		if diff := cmp.Diff(tt.want, out); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}

	out, errOut, code := run(t, "", "audit", "tail", "--home", dir, "-n", "2", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(recs) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", out)
	}
	for i, line := range recs {
		var got recordJSON
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		seq := int64(24 + i)
		if got.Seq != seq || got.KeyID != fmt.Sprintf("key%d", seq%3) || len(got.Hash) != 64 || len(got.PrevHash) != 64 ||
			string(got.Call) != fmt.Sprintf(`{"n":%d}`, seq) || !got.Time.Equal(auditT0.Add(time.Duration(seq)*time.Second)) {
			t.Errorf("line %d: %+v", i, got)
		}
	}
}

func TestAuditTailEscapesControlCharacters(t *testing.T) {
	dir := newAuditHome(t, 0)
	st, err := home.OpenStore(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.AppendAudit(t.Context(), audit.Record{Time: auditT0, Method: "eth_x\x1b]0;pwned\x07\xff", Decision: audit.DecisionDeny,
		Reasons: []string{"method \x1b[31meth_x\x1b[0m is not supported\r\nfake line", "tab\there", "bidi \u202egnp.exe\u2066\u200b\u2028"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "", "audit", "tail", "--home", dir)
	want := "2026-05-06T07:08:09.000Z  #1  key=-  eth_x\\x1b]0;pwned\\a\\xff  deny  tx=-  ip=-  " +
		"method \\x1b[31meth_x\\x1b[0m is not supported\\r\\nfake line; tab\\there; bidi \\u202egnp.exe\\u2066\\u200b\\u2028\n"
	if code != 0 || out != want {
		t.Errorf("exit %d\n got %q\nwant %q", code, out, want)
	}
}

func TestAuditTailFollow(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			dir := newAuditHome(t, 3)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var out, errb syncbuf.Buffer
			done := make(chan int)
			go func() {
				done <- Main(ctx, []string{"audit", "tail", "--home", dir, "-n", "1", "--follow", "--interval", "10ms", "-o", output},
					IO{In: strings.NewReader(""), Out: &out, Err: &errb})
			}()
			waitFor := func(what string, ok func(string) bool) {
				t.Helper()
				deadline := time.After(20 * time.Second)
				for !ok(out.String()) {
					select {
					case code := <-done:
						t.Fatalf("tail exited (%d) while waiting for %s: %s", code, what, errb.String())
					case <-deadline:
						t.Fatalf("timed out waiting for %s; output:\n%s", what, out.String())
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			count := func(s string) int { return strings.Count(s, "\n") }
			waitFor("the last existing record", func(s string) bool { return count(s) == 1 })
			appendRecords(t, dir, 4, 2)
			waitFor("the appended records", func(s string) bool { return count(s) == 3 })
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit %d after cancel: %s", code, errb.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("tail --follow did not stop when its context was cancelled")
			}
			got := out.String()
			if output == "text" {
				if want := tailLine(3) + "\n" + tailLine(4) + "\n" + tailLine(5) + "\n"; got != want {
					t.Errorf("output (-want +got):\n%s", cmp.Diff(want, got))
				}
				return
			}
			var seqs []int64
			for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				var r recordJSON
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("%v: %s", err, line)
				}
				seqs = append(seqs, r.Seq)
			}
			if !cmp.Equal(seqs, []int64{3, 4, 5}) {
				t.Errorf("followed seqs %v, want [3 4 5]", seqs)
			}
		})
	}
}

// TestAuditTailShowsTheKeyOfAdminActions: an owner's action is recorded
// without a key id (it must not count toward the key's rate), but tail
// shows the key it acted on from its call.
func TestAuditTailShowsTheKeyOfAdminActions(t *testing.T) {
	dir := newAuditHome(t, 0)
	st, err := home.OpenStore(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []audit.Record{
		{Time: auditT0, Method: "agentkeys_revoke", Decision: audit.DecisionAllow, Call: []byte(`{"key_id":"grant_0123456789abcdef"}`)},
		{Time: auditT0, Method: "agentkeys_revokeAll", Decision: audit.DecisionAllow, Call: []byte(`{"revoked":2}`)},
	} {
		if _, err := st.AppendAudit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	out, _, code := run(t, "", "audit", "tail", "--home", dir)
	want := "2026-05-06T07:08:09.000Z  #1  key=grant_0123456789abcdef  agentkeys_revoke  allow  tx=-  ip=-  -\n" +
		"2026-05-06T07:08:09.000Z  #2  key=-  agentkeys_revokeAll  allow  tx=-  ip=-  -\n"
	if code != 0 || out != want {
		t.Errorf("exit %d\n got %q\nwant %q", code, out, want)
	}
	out, _, _ = run(t, "", "audit", "tail", "--home", dir, "-n", "2", "-o", "json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"key_id":"","method":"agentkeys_revoke"`) ||
		!strings.Contains(lines[0], `"acted_on":"grant_0123456789abcdef"`) || strings.Contains(lines[1], "acted_on") {
		t.Errorf("json:\n%s", out)
	}
}

// runAt runs the command line in-process with the clock stopped at now.
func runAt(t *testing.T, now time.Time, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{io: IO{In: strings.NewReader(""), Out: &out, Err: &errOut}, now: func() time.Time { return now }}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		return out.String(), err.Error(), 1
	}
	return out.String(), errOut.String(), 0
}

func TestAuditTailFilters(t *testing.T) {
	dir := newAuditHome(t, 25)
	now := auditT0.Add(25 * time.Second) // record i is 25-i seconds old
	pick := func(keep func(i int) bool) string {
		var b strings.Builder
		for i := 1; i <= 25; i++ {
			if keep(i) {
				b.WriteString(tailLine(i) + "\n")
			}
		}
		return b.String()
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "key1", "-n", "100"}, pick(func(i int) bool { return i%3 == 1 })},
		{[]string{"--decision", "deny", "-n", "100"}, pick(func(i int) bool { return i%2 == 0 })},
		{[]string{"--decision", "error"}, ""},
		{[]string{"--since", "10s", "-n", "100"}, pick(func(i int) bool { return i >= 15 })},
		// -n counts matches, which can lie further back than the last n records.
		{[]string{"--key", "key2", "--decision", "allow", "-n", "2"}, pick(func(i int) bool { return i == 17 || i == 23 })},
		{[]string{"--key", "nobody"}, ""},
	} {
		out, errOut, code := runAt(t, now, append([]string{"audit", "tail", "--home", dir}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		if diff := cmp.Diff(tt.want, out); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestAuditTailFilterErrors(t *testing.T) {
	dir := newAuditHome(t, 1)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--decision", "maybe"}, "--decision: expected allow, deny or error"},
		{[]string{"--since", "yesterday"}, "--since: expected a positive duration"},
		{[]string{"--since", "0s"}, "--since: expected a positive duration"},
		{[]string{"--since", "-1h"}, "--since: expected a positive duration"},
		{[]string{"--key", "a\x1b[2Jb"}, "--key: expected a key id"},
		{[]string{"--key", strings.Repeat("k", 65)}, "--key: expected a key id"},
	} {
		out, errOut, code := runAt(t, auditT0, append([]string{"audit", "tail", "--home", dir}, tt.args...)...)
		if code == 0 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%q: exit %d, out %q, err %q; want an error containing %q", tt.args, code, out, errOut, tt.want)
		}
		if strings.Contains(errOut, "\x1b") {
			t.Errorf("%q: error echoes a control character: %q", tt.args, errOut)
		}
	}
}

// TestAuditTailFollowFiltered: with --follow, new records are filtered as
// the first ones were.
func TestAuditTailFollowFiltered(t *testing.T) {
	dir := newAuditHome(t, 3) // keys: #1 key1, #2 key2, #3 key0
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncbuf.Buffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"audit", "tail", "--home", dir, "-n", "1", "--key", "key1", "--follow", "--interval", "10ms"},
			IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	deadline := time.After(20 * time.Second)
	waitFor := func(lines int) {
		t.Helper()
		for strings.Count(out.String(), "\n") < lines {
			select {
			case code := <-done:
				t.Fatalf("tail exited (%d): %s", code, errb.String())
			case <-deadline:
				t.Fatalf("timed out; output:\n%s", out.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitFor(1)
	appendRecords(t, dir, 4, 4) // #4 key1, #5 key2, #6 key0, #7 key1
	waitFor(3)                  // #7 is the last appended: every other one was seen before it
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel: %s", code, errb.String())
	}
	if want := tailLine(1) + "\n" + tailLine(4) + "\n" + tailLine(7) + "\n"; out.String() != want {
		t.Errorf("output (-want +got):\n%s", cmp.Diff(want, out.String()))
	}
}

// TestAuditVerifyExportedHead: a head saved with --write-head catches a
// store writer who rebuilt the chain (it verifies on its own) or cut it
// back, while a log that only grew still passes; a bad head file is an
// error naming the flag.
func TestAuditVerifyExportedHead(t *testing.T) {
	dir := newAuditHome(t, 5)
	t.Setenv(home.EnvPassphrase, "")
	headFile := filepath.Join(t.TempDir(), "head.json")
	if out, errOut, code := run(t, "", "audit", "verify", "--home", dir, "--write-head", headFile); code != 0 {
		t.Fatalf("--write-head: exit %d: %s %s", code, out, errOut)
	}
	var saved struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	}
	b, err := os.ReadFile(headFile)
	if err != nil || json.Unmarshal(b, &saved) != nil {
		t.Fatalf("head file %q: %v", b, err)
	}
	if want := headOf(t, dir); saved.Seq != 5 || saved.Hash != hex.EncodeToString(want.Hash) {
		t.Fatalf("saved head %+v, want seq 5 hash %x", saved, want.Hash)
	}

	appendRecords(t, dir, 6, 2) // the log grows: still through the saved head
	if out, errOut, code := run(t, "", "audit", "verify", "--home", dir, "--head", headFile); code != 0 || !strings.HasPrefix(out, "audit log OK: 7 records") {
		t.Fatalf("grown log against the saved head: exit %d: %s %s", code, out, errOut)
	}

	// A writer of the store replaces the whole log with another chain of
	// seven records that is intact on its own.
	rawSQL(t, dir, "DELETE FROM audit_records", "UPDATE audit_head SET seq = 0, hash = zeroblob(32)")
	appendRecords(t, dir, 100, 7)
	if out, _, code := run(t, "", "audit", "verify", "--home", dir); code != 0 {
		t.Fatalf("the rebuilt chain should verify on its own: %s", out)
	}
	out, _, code := run(t, "", "audit", "verify", "--home", dir, "--head", headFile)
	if code == 0 || !strings.Contains(out, "record 5: exported-head-mismatch") || !strings.Contains(out, "history up to the exported head was rewritten") {
		t.Errorf("rebuilt chain against the saved head: exit %d: %s", code, out)
	}

	// Cut back before the saved head.
	rawSQL(t, dir, "DELETE FROM audit_records", "UPDATE audit_head SET seq = 0, hash = zeroblob(32)")
	appendRecords(t, dir, 200, 3)
	out, _, code = run(t, "", "audit", "verify", "--home", dir, "--head", headFile, "-o", "json")
	if code == 0 || !strings.Contains(out, `"kind": "exported-head-mismatch"`) || !strings.Contains(out, "which the log no longer has (it ends at 3)") {
		t.Errorf("cut-back log against the saved head: exit %d: %s", code, out)
	}
	// --write-head writes nothing when the check fails.
	if b2, _ := os.ReadFile(headFile); !bytes.Equal(b, b2) {
		t.Error("the head file changed")
	}
	run(t, "", "audit", "verify", "--home", dir, "--head", headFile, "--write-head", headFile)
	if b2, _ := os.ReadFile(headFile); !bytes.Equal(b, b2) {
		t.Error("a failed check overwrote the saved head")
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"seq": 3, "hash": "zz"}`), 0o600)
	if _, errOut, code := run(t, "", "audit", "verify", "--home", dir, "--head", bad); code == 0 || !strings.Contains(errOut, "--head") || !strings.Contains(errOut, "64 hex digits") {
		t.Errorf("bad head file: exit %d: %s", code, errOut)
	}
}

// TestBackupCommand: `agentkeys backup FILE` copies the home's store; the
// copy, put in a home's place, verifies and holds the records up to the
// backup; an existing FILE is refused.
func TestBackupCommand(t *testing.T) {
	dir := newAuditHome(t, 4)
	t.Setenv(home.EnvPassphrase, "")
	to := filepath.Join(t.TempDir(), "backup.db")
	if out, errOut, code := run(t, "", "backup", to, "--home", dir); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: exit %d: %s %s", code, out, errOut)
	}
	if fi, err := os.Stat(to); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	appendRecords(t, dir, 5, 2)
	if _, errOut, code := run(t, "", "backup", to, "--home", dir); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("backup over an existing file: exit %d: %s", code, errOut)
	}

	// Restore: the copy replaces the store of a home (the daemon stopped).
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, home.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(restored, home.ConfigFile), cfg, 0o600)
	b, _ := os.ReadFile(to)
	os.WriteFile(filepath.Join(restored, home.DBFile), b, 0o600)
	if out, errOut, code := run(t, "", "audit", "verify", "--home", restored); code != 0 || !strings.HasPrefix(out, "audit log OK: 4 records") {
		t.Errorf("restored home: exit %d: %s %s", code, out, errOut)
	}
}
