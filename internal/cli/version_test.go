package cli_test

import (
	"regexp"
	"testing"

	"github.com/cpaccess/cpaccess/internal/version"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	res := run(t, "", "version")
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", res.code, res.errOut)
	}
	if want := "cpaccess " + version.Get() + "\n"; res.out != want {
		t.Errorf("standard output = %q, want %q", res.out, want)
	}
	if !regexp.MustCompile(`^cpaccess \S+\n$`).MatchString(res.out) {
		t.Errorf("standard output = %q, want one line \"cpaccess <version>\"", res.out)
	}
	if res.errOut != "" {
		t.Errorf("standard error = %q, want nothing", res.errOut)
	}

	extra := run(t, "", "version", "extra")
	if extra.code != 1 || extra.out != "" {
		t.Errorf("version with an argument: exit code %d, stdout %q; want 1 and nothing", extra.code, extra.out)
	}
}
