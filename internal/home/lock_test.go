package home

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var lockTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestLockRefusesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "agentkeys sandbox", lockTime)
	if err != nil {
		t.Fatal(err)
	}
	note, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, LockFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
	}

	_, err = Acquire(dir, "agentkeys serve", lockTime.Add(time.Hour))
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Acquire: %v, want ErrInUse", err)
	}
	want := fmt.Sprintf("home %s is in use by agentkeys sandbox (pid %d) since 2026-11-25T10:00:00Z; stop it first or use another --home", dir, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant it to say %q", err, want)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, LockFile)); string(after) != string(note) {
		t.Errorf("the refused Acquire changed the note: %q -> %q", note, after)
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := Acquire(dir, "agentkeys serve", lockTime)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer l2.Release()
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

func TestLockMissingDirIsNotCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Acquire(dir, "agentkeys serve", lockTime)
	if !errors.Is(err, ErrNotInitialized) || !strings.Contains(err.Error(), "agentkeys init") {
		t.Fatalf("Acquire on a missing dir: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Acquire created %s", dir)
	}
	var nilLock *Lock
	if err := nilLock.Release(); err != nil {
		t.Errorf("Release of a nil lock: %v", err)
	}
}

// TestLockNoteIsBounded: a lock file holding something other than a note
// (or a note not yet written) gives a plain message, never its contents.
func TestLockNoteIsBounded(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "agentkeys serve", lockTime)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for _, content := range []string{"", "garbage", `{"command":"` + strings.Repeat("x", 100) + `","pid":7}`, `{"command":"a\u0007b","pid":7}`} {
		if err := os.WriteFile(filepath.Join(dir, LockFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Acquire(dir, "agentkeys sandbox", lockTime)
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "in use by another agentkeys daemon; stop it first") ||
			strings.Contains(err.Error(), "xxxx") || strings.Contains(err.Error(), "garbage") {
			t.Errorf("note %q: error %v", content, err)
		}
	}
}

// TestLockReleasedWhenHolderDies: a process killed while holding the lock
// leaves no stale lock behind.
func TestLockReleasedWhenHolderDies(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "AGENTKEYS_LOCK_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // the helper blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q, %v", line, err)
	}
	_, err = Acquire(dir, "agentkeys serve", lockTime)
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", cmd.Process.Pid)) {
		t.Errorf("Acquire while the helper holds the lock: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := Acquire(dir, "agentkeys serve", lockTime)
	if err != nil {
		t.Fatalf("Acquire after the holder died: %v", err)
	}
	l.Release()
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("AGENTKEYS_LOCK_HELPER_DIR"); dir != "" {
		holdLock(dir)
	}
	os.Exit(m.Run())
}

// holdLock is the process TestLockReleasedWhenHolderDies kills: it takes
// the lock, says so, and blocks on its stdin.
func holdLock(dir string) {
	if _, err := Acquire(dir, "agentkeys sandbox", lockTime); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
