package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/agentkeys/agentkeys", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}
	v := readVersion(func() (*debug.BuildInfo, bool) { return info, true })
	want := buildVersion{Version: "v0.4.0", Commit: "0123456789abcdef0123456789abcdef01234567", Time: "2026-01-02T03:04:05Z", Modified: true, Go: "go1.26.0"}
	if v != want {
		t.Errorf("got %+v, want %+v", v, want)
	}
	if s := v.String(); s != "agentkeys v0.4.0 (commit 0123456789abcdef0123456789abcdef01234567, with uncommitted changes) go1.26.0" {
		t.Errorf("text: %s", s)
	}
	info.Main.Version, info.Settings = "(devel)", nil
	if v := readVersion(func() (*debug.BuildInfo, bool) { return info, true }); v.Version != "devel" || v.Commit != "" {
		t.Errorf("no stamp: %+v", v)
	}
}

// TestVersionOfABuiltBinary builds agentkeys in a fresh clone of this
// repository (go build does not stamp linked git worktrees, golang/go#58218)
// and checks that `version -o json` reports the clone's commit, and that
// the work tree was modified once it is.
func TestVersionOfABuiltBinary(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("this test runs in the agentkeys git repository: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "src")
	gitRun := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitRun(".", "clone", "--quiet", "--shared", strings.TrimSpace(string(root)), clone)
	head := gitRun(clone, "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "agentkeys")
	build := func() buildVersion {
		t.Helper()
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/agentkeys")
		cmd.Dir = clone
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version", "-o", "json").Output()
		if err != nil {
			t.Fatalf("version: %v", err)
		}
		var v buildVersion
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return v
	}
	v := build()
	if v.Commit != head || v.Modified || v.Version == "" || v.Version == "(devel)" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("clean clone at %s: %+v", head, v)
	}
	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := build(); v.Commit != head || !v.Modified {
		t.Errorf("modified clone at %s: %+v", head, v)
	}
}
