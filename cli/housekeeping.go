package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"importops/config"
	"importops/media"
	"importops/spool"
)

// mediaSweepEvery is how often a running server sweeps media debris after
// its start-up sweep: replicas sharing a bucket may run for weeks, and
// one killed mid-upload leaves files that no start-up of its own removes.
const mediaSweepEvery = time.Hour

// sweepMedia removes the files of uploads that never committed (see
// media.Sweep): now, then every mediaSweepEvery. The returned func stops
// it and waits for a sweep in progress.
func (a *app) sweepMedia(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			n, err := media.Sweep(ctx, a.media, a.store.KnownMediaKeys, time.Now().Add(-media.DebrisAge))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				a.log.Warn("media sweep", "error", err, "removed", n)
			case n > 0:
				a.log.Info("media sweep", "removed", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(mediaSweepEvery):
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// OpenSpool gives the process a spool directory of its own (SPOOL_DIR)
// and points TMPDIR at it: gqlgen's multipart transport spools upload
// parts past what it keeps in memory to os.TempDir(). What a killed
// process spooled is removed here, by the next start; the returned func
// removes this process's own. It changes the process's environment, so
// main calls it, once, not the commands (which tests run in process).
// A configuration error is left for Run to report.
func OpenSpool(getenv func(string) string) (closeSpool func(), err error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return func() {}, nil
	}
	root := cfg.SpoolDir
	if root == "" {
		root = filepath.Join(os.TempDir(), "importops-spool")
	}
	d, _, err := spool.Open(root)
	if err != nil {
		return nil, err
	}
	if err := os.Setenv("TMPDIR", d.Path); err != nil {
		d.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	return func() { d.Close() }, nil
}
