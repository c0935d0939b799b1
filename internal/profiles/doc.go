// Package profiles reads ClusterProfiles from files (YAML or JSON,
// multi-document, List kinds) and from a hub cluster.
package profiles
