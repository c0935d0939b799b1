// Package version reports the version cpaccess was built as.
package version

import "runtime/debug"

// Version is set at build time with -ldflags "-X github.com/cpaccess/cpaccess/internal/version.Version=v1.2.3".
var Version = ""

// Get returns the build's version: the linker-set one, else the module
// version recorded by the Go toolchain, else "devel".
func Get() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
