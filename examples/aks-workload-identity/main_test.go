package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestExample(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(&out, &errOut, []string{"-provider-file", "providers.yaml", "-profile", "clusterprofile.yaml"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "AZURE_CLIENT_ID=3f1b2c9e-8a47-4d6e-9b1f-5c2a7e8d4f60 kubelogin get-token --login workloadidentity" +
		" --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --federated-token-file /var/run/secrets/tokens/azure-identity-token" +
		" --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --authority-host https://login.microsoftonline.com/\n"
	if !strings.Contains(out.String(), "\n"+want) {
		t.Errorf("output:\n%s\nwant the line:\n%s", out.String(), want)
	}
	if !strings.Contains(out.String(), "# server: https://bravelion-dns-4k2j7q1x.hcp.westeurope.azmk8s.io:443") {
		t.Errorf("server missing:\n%s", out.String())
	}
}

func TestExampleBadProviderFile(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(&out, &errOut, []string{"-provider-file", "missing.yaml"}); code != 1 || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q", code, out.String())
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "": "''", "a b": "'a b'", "it's": `'it'\''s'`} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
