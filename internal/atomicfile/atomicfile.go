package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path atomically: it writes a temporary file in the same
// directory with mode perm, syncs it, and renames it over path. An existing
// file's mode is replaced by perm. When path is a symbolic link, the file it
// points to is replaced and the link is kept. Anything but a regular file or
// a missing one (a device, a FIFO, a directory, a dangling link) is refused,
// never replaced.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	path, err = Target(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to create a temporary file next to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("failed to set mode of %s: %w", tmp.Name(), err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("failed to write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("failed to sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("failed to close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to replace %s: %w", path, err)
	}
	return nil
}

// Target returns the file Write would replace for path: path itself, or the
// file its symbolic links lead to. It fails for anything Write refuses.
func Target(path string) (string, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	case err != nil:
		return "", fmt.Errorf("failed to inspect %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", fmt.Errorf("failed to follow the symbolic link %s (refusing to replace a link whose target cannot be resolved): %w", path, err)
		}
		if fi, err = os.Stat(resolved); err != nil {
			return "", fmt.Errorf("failed to inspect %s: %w", resolved, err)
		}
		path = resolved
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("refusing to replace %s: it is not a regular file (%s)", path, fi.Mode().Type())
	}
	return path, nil
}
