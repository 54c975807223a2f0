//go:build !unix

package spool

import "os"

// tryLock cannot tell a live process from a dead one here: each process
// only ever takes its own directory, and others' are never swept.
func tryLock(f *os.File) (bool, error) {
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		return true, f.Truncate(1) // ours: just created
	}
	return false, nil
}
