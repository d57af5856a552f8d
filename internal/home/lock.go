package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode"

	"github.com/gofrs/flock"
)

// LockFile is the file in a home that a daemon (serve, sandbox) locks while
// it serves the home. It holds a note saying who holds it, for the error a
// second daemon gets.
const LockFile = "agentkeys.lock"

// Lock is a daemon's exclusive hold on a home: two daemons serving one
// home would hand out the same nonces from separate in-memory state and
// overwrite each other's sandbox.json. The lock is an advisory file lock
// (flock on Unix), so the operating system releases it when the process
// ends, even on a crash: there is never a stale lock to clean up.
type Lock struct {
	fl   *flock.Flock
	dir  string
	path string
}

// holderNote is what the lock file says while it is held.
type holderNote struct {
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
}

// maxNote bounds how much of the lock file is read into an error.
const maxNote = 1024

// Acquire locks the home in dir for command (such as "agentkeys sandbox")
// or fails at once, without waiting: with an error wrapping ErrInUse that
// names the holder if another process holds the lock, or ErrNotInitialized
// if dir does not exist. now stamps the note others see. Release the lock
// when done.
func Acquire(dir, command string, now time.Time) (*Lock, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist (run agentkeys init, or check --home)", ErrNotInitialized, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("lock home: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("lock home: %s is not a directory", dir)
	}
	path := filepath.Join(dir, LockFile)
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(fileMode))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock home: %w", err)
	}
	if !ok {
		return nil, inUse(dir, path)
	}
	// The note is for people; the lock holds without it (on Windows a
	// locked file cannot be written through another handle).
	note, _ := json.Marshal(holderNote{Command: command, PID: os.Getpid(), Since: now.UTC().Truncate(time.Second)})
	_ = os.WriteFile(path, append(note, '\n'), fileMode)
	return &Lock{fl: fl, dir: dir, path: path}, nil
}

// Dir is the home directory the lock holds.
func (l *Lock) Dir() string { return l.dir }

// inUse is the error for a home whose lock another process holds.
func inUse(dir, path string) error {
	const todo = "; stop it first or use another --home"
	var n holderNote
	f, err := os.Open(path)
	if err == nil {
		err = json.NewDecoder(io.LimitReader(f, maxNote)).Decode(&n)
		f.Close()
	}
	if err != nil || n.PID <= 0 || !printable(n.Command) {
		// The holder has not written its note yet, or it is unreadable.
		return &inUseError{fmt.Sprintf("home %s is in use by another agentkeys daemon%s", dir, todo)}
	}
	since := ""
	if !n.Since.IsZero() {
		since = " since " + n.Since.UTC().Format(time.RFC3339)
	}
	return &inUseError{fmt.Sprintf("home %s is in use by %s (pid %s)%s%s", dir, n.Command, strconv.Itoa(n.PID), since, todo)}
}

// inUseError is ErrInUse with a message that reads as one sentence.
type inUseError struct{ msg string }

func (e *inUseError) Error() string        { return e.msg }
func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// printable reports whether s is a short, plain command name fit for an
// error message.
func printable(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Release clears the note and unlocks. The file itself stays: removing a
// lock file races with a process that has opened it but not yet locked
// it, which would then hold a lock on a file no one else can see. Release
// on a nil Lock, or twice, does nothing.
func (l *Lock) Release() error {
	if l == nil || !l.fl.Locked() {
		return nil
	}
	_ = os.Truncate(l.path, 0)
	if err := l.fl.Unlock(); err != nil {
		return fmt.Errorf("unlock home: %w", err)
	}
	return nil
}
