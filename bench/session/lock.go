package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFile is the lock a run holds on its result directory for its whole
// life; it holds the pid of the holder.
const LockFile = ".lock"

// lockDir takes the exclusive lock of a result directory, creating the
// directory. A second writer (a run, a --resume) is refused with the
// holder's pid: two writers would record every cell twice. The kernel
// drops the lock when the process ends, however it ends.
func lockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := "another process"
			if b, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
					holder = "pid " + strconv.Itoa(pid)
				}
			}
			return nil, &InputError{fmt.Errorf("%s is being written by %s (bench run or --resume; see %s): one writer per result directory", dir, holder, path)}
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	// Unlock explicitly rather than by closing: a child process that
	// another goroutine is starting holds a copy of the descriptor until
	// its exec closes it (close-on-exec), and a flock lives as long as any
	// copy is open; LOCK_UN drops it at once.
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
