package app

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestRunRejectsBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"nope"}, `unknown command "nope"`},
		{"demo takes no arguments", []string{"demo", "extra"}, "unknown command"},
		{"up takes no arguments", []string{"up", "extra"}, "unknown command"},
		{"unknown flag", []string{"demo", "--nope"}, "unknown flag: --nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := Run(t.Context(), IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, tt.args)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero")
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestAbbreviateCertData(t *testing.T) {
	in := "  - cluster:\n      certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJhVENDQVJD\n      server: https://x\n"
	want := "  - cluster:\n      certificate-authority-data: LS0tLS1CRUdJTiBD...\n      server: https://x\n"
	if got := string(abbreviateCertData([]byte(in))); got != want {
		t.Errorf("abbreviateCertData =\n%s\nwant\n%s", got, want)
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"/tmp/a b", "it's", "", "$HOME `x`"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) read back as %q", s, out)
		}
	}
}

func TestJWTClaims(t *testing.T) {
	// {"alg":"none"}.{"iss":"https://hub","sub":"system:serviceaccount:apps:a"}.
	claims, err := jwtClaims("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2h1YiIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDphcHBzOmEifQ.sig\n")
	if err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "https://hub" || claims["sub"] != "system:serviceaccount:apps:a" {
		t.Errorf("claims = %v", claims)
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a.bm90IGpzb24.c"} {
		if _, err := jwtClaims(bad); err == nil {
			t.Errorf("jwtClaims(%q) succeeded", bad)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
		"-":                                    "-",
		"t\x1b[2J":                             `"t\x1b[2J"`,
		"a\u202eb":                             `"a\u202eb"`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
