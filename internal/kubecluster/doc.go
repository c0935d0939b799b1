// Package kubecluster starts a real etcd and kube-apiserver on 127.0.0.1 for
// integration and end-to-end tests. There is no controller-manager, scheduler
// or kubelet: the cluster serves the API, authenticates and authorizes, and
// issues service-account tokens, which is all cpaccess needs from a hub or a
// member cluster.
package kubecluster
