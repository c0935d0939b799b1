package access

import (
	"errors"
	"fmt"
	"io/fs"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cpaccess/cpaccess/internal/atomicfile"
)

// EncodeKubeconfig validates cfg with clientcmd's rules and encodes it as
// kubeconfig YAML.
func EncodeKubeconfig(cfg *clientcmdapi.Config) ([]byte, error) {
	if err := clientcmd.Validate(*cfg); err != nil && !clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("failed to validate kubeconfig: %w", err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to encode kubeconfig: %w", err)
	}
	return data, nil
}

// WriteKubeconfig writes cfg to path atomically with mode 0600. With merge,
// an existing file at path is loaded first and cfg is merged into it by
// MergeKubeconfig; a missing file is not an error. Nothing is written when
// loading, merging, validating or encoding fails.
func WriteKubeconfig(path string, cfg *clientcmdapi.Config, merge bool) error {
	out := cfg
	if merge {
		existing, err := clientcmd.LoadFromFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			existing = clientcmdapi.NewConfig()
		case err != nil:
			return fmt.Errorf("failed to load kubeconfig %s to merge into: %w", path, err)
		}
		out = MergeKubeconfig(existing, cfg)
	}
	data, err := EncodeKubeconfig(out)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("failed to write kubeconfig: %w", err)
	}
	return nil
}
