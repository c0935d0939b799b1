package access

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config")
	unlock, err := lockFile(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("no lock file: %v", err)
	}
	// A second writer waits, then gives up naming the lock.
	start := time.Now()
	if _, err := lockFile(path, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), path+".lock has existed") {
		t.Fatalf("second lock: %v", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("gave up without waiting")
	}
	// Once released, it gets the lock.
	done := make(chan error, 1)
	go func() {
		u, err := lockFile(path, 5*time.Second)
		if err == nil {
			u()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
}
