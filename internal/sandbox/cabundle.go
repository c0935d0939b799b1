package sandbox

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// systemCAFiles are the PEM bundles of system trust roots looked for, in
// order, as Go's crypto/x509 looks for them on Linux and the BSDs.
var systemCAFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS, BSDs
}

// systemRoots returns the PEM trust roots a shell's TLS clients use when
// SSL_CERT_FILE is not changed: the file sslCertFile names when set and
// readable (the shell's own choice), else the first of candidates that
// exists. source names the file read, "" when none was found.
func systemRoots(sslCertFile string, candidates []string) (pemData []byte, source string, err error) {
	if sslCertFile != "" {
		data, err := os.ReadFile(sslCertFile)
		if err == nil {
			return data, sslCertFile, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("failed to read SSL_CERT_FILE %s: %w", sslCertFile, err)
		}
	}
	for _, p := range candidates {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("failed to read the system trust roots %s: %w", p, err)
		}
		return data, p, nil
	}
	return nil, "", nil
}

// combineCABundle returns the certificates of roots followed by extra, as
// one PEM bundle. Blocks that are not certificates (a stray private key,
// text between blocks) are dropped: the result holds trust roots only.
func combineCABundle(roots, extra []byte) []byte {
	var b bytes.Buffer
	for _, data := range [][]byte{roots, extra} {
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
		}
	}
	return b.Bytes()
}
