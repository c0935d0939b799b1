//go:build !linux

package kubecluster

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
