package access

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
)

// EncodeKubeconfig validates cfg with clientcmd's rules and encodes it as
// kubeconfig YAML.
func EncodeKubeconfig(cfg *clientcmdapi.Config) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New("failed to encode kubeconfig: no config given")
	}
	if err := clientcmd.Validate(*cfg); err != nil && !clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("failed to validate kubeconfig: %w", err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to encode kubeconfig: %w", err)
	}
	return data, nil
}

// lockTimeout bounds how long WriteKubeconfig waits for another writer.
const lockTimeout = 10 * time.Second

// WriteKubeconfig writes cfg to path atomically with mode 0600. With merge,
// an existing file at path is loaded first and cfg is merged into it by
// MergeKubeconfig; a missing file is not an error. cfg is validated with
// clientcmd's rules; the entries of the existing file are kept as they are,
// even those clientcmd would not validate (a context whose cluster was
// deleted, a CA path relative to the file). Writers take the lock file
// "<path>.lock", as kubectl does, so concurrent merges do not lose entries.
// Nothing is written when loading, merging, validating or encoding fails,
// and path is never replaced when it is not a regular file.
func WriteKubeconfig(path string, cfg *clientcmdapi.Config, merge bool) error {
	if cfg == nil {
		return errors.New("failed to write kubeconfig: no config given")
	}
	if err := clientcmd.Validate(*cfg); err != nil && !clientcmd.IsEmptyConfig(err) {
		return fmt.Errorf("failed to validate kubeconfig: %w", err)
	}
	target, err := atomicfile.Target(path)
	if err != nil {
		return fmt.Errorf("failed to write kubeconfig: %w", err)
	}
	unlock, err := lockFile(target, lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()

	out := cfg
	if merge {
		existing, err := clientcmd.LoadFromFile(target)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			existing = clientcmdapi.NewConfig()
		case err != nil:
			return fmt.Errorf("failed to load kubeconfig %s to merge into: %w", path, err)
		}
		out = MergeKubeconfig(existing, cfg)
	}
	data, err := clientcmd.Write(*out)
	if err != nil {
		return fmt.Errorf("failed to encode kubeconfig: %w", err)
	}
	if err := atomicfile.Write(target, data, 0o600); err != nil {
		return fmt.Errorf("failed to write kubeconfig: %w", err)
	}
	return nil
}

// lockFile takes "<path>.lock", the lock kubectl uses for kubeconfig
// changes, waiting up to timeout for another writer to let go.
func lockFile(path string, timeout time.Duration) (unlock func(), err error) {
	lock := path + ".lock"
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_ = f.Close()
			return func() { _ = os.Remove(lock) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("failed to lock kubeconfig %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("failed to lock kubeconfig %s: %s has existed for %s; remove it if no cpaccess or kubectl is writing the file", path, lock, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
