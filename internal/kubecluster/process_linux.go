package kubecluster

import "syscall"

// sysProcAttr asks the kernel to kill the child when the test binary dies, so
// that a crashed or timed-out test leaves no etcd or kube-apiserver behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
