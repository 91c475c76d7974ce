// Package atomicfile replaces files so that a crash at any moment leaves
// the old content or the new one, never a torn file: the data goes to a
// temporary file in the same directory, which is synced, renamed over the
// old one, and the directory synced.
package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
)

// WriteFile replaces the file at path with data, atomically and durably.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempMark is in the name of every temporary file WriteFile makes.
const tempMark = ".tmp-"

// IsTemp reports whether name is that of a temporary file WriteFile left
// behind when it was interrupted, which is safe to remove.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
}
