// Package atomicfile writes files so that readers see either the old content
// or the new, never a partial file, with owner-only permissions.
package atomicfile
