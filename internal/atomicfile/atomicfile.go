// Package atomicfile replaces files so that a reader sees the old content
// or the whole new one, never a part, and a crash leaves one of the two.
// Any package may import it; it imports only the standard library.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data at the given mode: a temporary file in the
// same directory (created exclusively), written, synced, renamed over path,
// and the directory synced so the rename survives a crash. On error the
// temporary file is removed and path is untouched.
func Write(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // O_EXCL, mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // not every file system supports syncing a directory
		d.Close()
	}
	return nil
}
