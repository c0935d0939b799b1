package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the command's logging goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCommandServesUntilCancelled(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	cmd := newCommand(outW, &stderr)
	cmd.SetArgs([]string{"--config", "../../../pkg/entraemulator/testdata/valid-aks.yaml", "--ca-file", caFile})
	done := make(chan error, 1)
	go func() {
		done <- cmd.ExecuteContext(ctx)
		_ = outW.Close()
	}()

	vars := map[string]string{}
	sc := bufio.NewScanner(outR)
	for len(vars) < 3 && sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("unexpected stdout line %q", sc.Text())
		}
		vars[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	url := vars["ENTRA_EMULATOR_URL"]
	if !strings.HasPrefix(url, "https://127.0.0.1:") || vars["AZURE_AUTHORITY_HOST"] != url+"/" || vars["ENTRA_EMULATOR_CA_FILE"] != caFile {
		t.Fatalf("stdout = %v\nstderr: %s", vars, stderr.String())
	}

	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url + "/8e3af657-a8ff-443c-a75c-2fe8c4bcb635/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery status %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("command returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command did not stop")
	}
	if logs := stderr.String(); !strings.Contains(logs, "endpoint=openid-configuration-v2") || !strings.Contains(logs, "shutting down") {
		t.Errorf("stderr = %s", logs)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no config", args: nil, want: `required flag(s) "config" not set`},
		{name: "missing file", args: []string{"--config", "does-not-exist.yaml"}, want: "failed to read config"},
		{name: "invalid config", args: []string{"--config", "../../../pkg/entraemulator/testdata/invalid-unknown-field.yaml"}, want: "unknown field"},
		{name: "bad address", args: []string{"--config", "../../../pkg/entraemulator/testdata/valid-minimal.json", "--address", "nonsense"}, want: "address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			cmd := newCommand(&stdout, &stderr)
			cmd.SetArgs(tc.args)
			err := cmd.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if stdout.String() != "" {
				t.Errorf("stdout = %q, want empty", stdout.String())
			}
		})
	}
}

func TestCommandAdminAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	cmd := newCommand(outW, &stderr)
	cmd.SetArgs([]string{"--config", "../../../pkg/entraemulator/testdata/valid-aks.yaml", "--admin-address", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() {
		done <- cmd.ExecuteContext(ctx)
		_ = outW.Close()
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(outR)
	for len(vars) < 3 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		vars[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	admin := vars["ENTRA_EMULATOR_ADMIN_URL"]
	if !strings.HasPrefix(admin, "http://127.0.0.1:") {
		t.Fatalf("stdout = %v\nstderr: %s", vars, stderr.String())
	}
	resp, err := http.Post(admin+"/faults", "application/json", strings.NewReader(`{"status": 503, "count": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /faults: %d", resp.StatusCode)
	}
	resp, err = http.Get(admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /stats: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCommandAdminAddressMustBeLoopback(t *testing.T) {
	var stdout, stderr syncBuffer
	cmd := newCommand(&stdout, &stderr)
	cmd.SetArgs([]string{"--config", "../../../pkg/entraemulator/testdata/valid-aks.yaml", "--admin-address", "0.0.0.0:0"})
	err := cmd.ExecuteContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckListenAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		allow   bool
		wantErr bool
	}{
		{"127.0.0.1:8443", false, false},
		{"127.0.0.2:0", false, false},
		{"localhost:0", false, false},
		{"[::1]:0", false, false},
		{"0.0.0.0:0", false, true},
		{":8443", false, true},
		{"[::]:0", false, true},
		{"192.0.2.10:8443", false, true},
		{"emulator.example:8443", false, true},
		{"0.0.0.0:0", true, false},
		{"192.0.2.10:8443", true, false},
		{"", false, false},         // the default, 127.0.0.1:0
		{"nonsense", false, false}, // left to the config's validation
	}
	for _, tt := range tests {
		err := checkListenAddress(tt.addr, tt.allow)
		if (err != nil) != tt.wantErr {
			t.Errorf("checkListenAddress(%q, %v) = %v, want error %v", tt.addr, tt.allow, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--allow-non-loopback") {
			t.Errorf("error %q does not name --allow-non-loopback", err)
		}
	}
}

// TestCommandNonLoopbackAddress checks the command refuses an address
// beyond loopback, from the flag or the config, unless allowed, and that
// then the printed URL is one the emulator answers at.
func TestCommandNonLoopbackAddress(t *testing.T) {
	t.Parallel()
	cfgWithAddress := writeConfigWithAddress(t, "0.0.0.0:0")
	for name, args := range map[string][]string{
		"flag":   {"--config", "../../../pkg/entraemulator/testdata/valid-aks.yaml", "--address", "0.0.0.0:0"},
		"config": {"--config", cfgWithAddress},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			cmd := newCommand(&stdout, &stderr)
			cmd.SetArgs(args)
			err := cmd.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), "refusing to listen on 0.0.0.0:0") {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if stdout.String() != "" {
				t.Errorf("stdout = %q, want empty", stdout.String())
			}
		})
	}

	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		outR, outW := io.Pipe()
		var stderr syncBuffer
		cmd := newCommand(outW, &stderr)
		cmd.SetArgs([]string{"--config", "../../../pkg/entraemulator/testdata/valid-aks.yaml", "--address", "0.0.0.0:0", "--allow-non-loopback"})
		done := make(chan error, 1)
		go func() {
			done <- cmd.ExecuteContext(ctx)
			_ = outW.Close()
		}()
		sc := bufio.NewScanner(outR)
		if !sc.Scan() {
			t.Fatalf("no output; stderr: %s", stderr.String())
		}
		go func() { _, _ = io.Copy(io.Discard, outR) }()
		url, ok := strings.CutPrefix(sc.Text(), "ENTRA_EMULATOR_URL=")
		// A wildcard listener answers on loopback too: the URL says so.
		if !ok || !strings.HasPrefix(url, "https://127.0.0.1:") {
			t.Fatalf("first line = %q", sc.Text())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func writeConfigWithAddress(t *testing.T, addr string) string {
	t.Helper()
	data, err := os.ReadFile("../../../pkg/entraemulator/testdata/valid-aks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "address: 127.0.0.1:0", "address: "+addr, 1))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
