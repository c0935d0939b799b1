// Package cli implements the cpaccess command line: one file per command,
// IO streams injected, nothing but the program's output on standard output.
package cli
