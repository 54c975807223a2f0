package spool

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenSweepsOnlyAbandonedDirectories(t *testing.T) {
	root := t.TempDir()
	live, _, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// A killed process's directory: its lock file is there, unlocked,
	// with a spooled upload left in it.
	dead := filepath.Join(root, "run-dead")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{lockName, "gqlgen-123"} {
		if err := os.WriteFile(filepath.Join(dead, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(live.Path, "gqlgen-456"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	next, removed, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 {
		t.Errorf("removed %d directories, want 1 (the dead one)", removed)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the abandoned directory is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(live.Path, "gqlgen-456")); err != nil {
		t.Errorf("a live process's spooled file was removed: %v", err)
	}
	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(next.Path); !os.IsNotExist(err) {
		t.Errorf("Close left %s: %v", next.Path, err)
	}
}
