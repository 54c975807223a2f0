// Package spool is where the server spools request bodies to disk (the
// parts of multipart uploads past what is kept in memory): a directory
// per running process under one root. A process killed mid-upload leaves
// its directory behind; the next start finds it no longer locked by a
// live process and removes it, while other live processes' directories
// on the same machine are spared.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	runPrefix = "run-"
	lockName  = "lock"
	// A directory without its lock file is a process that died between
	// creating it and locking it, unless it is this young.
	unlockedGrace = time.Minute
)

// Dir is this process's spool directory, locked while the process lives.
type Dir struct {
	Path string
	lock *os.File
}

// Open creates this process's directory under root and removes the
// directories of processes that no longer run. It returns how many it
// removed.
func Open(root string) (*Dir, int, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	removed, err := sweep(root)
	if err != nil {
		return nil, removed, err
	}
	path, err := os.MkdirTemp(root, runPrefix+"*")
	if err != nil {
		return nil, removed, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(path, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		var held bool
		if held, err = tryLock(f); err == nil && !held {
			err = errors.New("a fresh lock file is locked")
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.RemoveAll(path)
		return nil, removed, fmt.Errorf("spool: lock %s: %w", path, err)
	}
	return &Dir{Path: path, lock: f}, removed, nil
}

// Close removes the directory and what is left in it.
func (d *Dir) Close() error {
	err := os.RemoveAll(d.Path)
	d.lock.Close() // after the removal: no one may take the directory for dead while it is removed
	return err
}

// sweep removes the run directories under root whose process is gone.
func sweep(root string) (int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), runPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		dead, err := abandoned(dir)
		if err != nil {
			return removed, err
		}
		if !dead {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return removed, fmt.Errorf("spool: remove %s: %w", dir, err)
		}
		removed++
	}
	return removed, nil
}

// abandoned reports whether no live process holds dir's lock.
func abandoned(dir string) (bool, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		info, err := os.Stat(dir)
		if err != nil {
			return false, nil // gone already
		}
		return time.Since(info.ModTime()) > unlockedGrace, nil
	}
	if err != nil {
		return false, fmt.Errorf("spool: %w", err)
	}
	defer f.Close() // releases the lock if we took it
	held, err := tryLock(f)
	if err != nil {
		return false, fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	return held, nil
}
