package policy

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long the watcher waits after the last change before
// it reloads, so that an editor's save (often several events) or a copy of
// many files causes one reload.
const watchDebounce = 200 * time.Millisecond

// watcher reloads an engine when a .rego file below its directory changes.
type watcher struct {
	fs     *fsnotify.Watcher
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startWatcher(ctx context.Context, dir string, e *Engine, logger *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch policies in %s: %w", dir, err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return fw.Add(path)
	})
	if err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch policies in %s: %w", dir, err)
	}

	// The watcher outlives the call that created it, so it keeps ctx's
	// values but not its cancellation; Close stops it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &watcher{fs: fw, cancel: cancel}
	w.done.Go(func() { w.run(ctx, dir, e, logger) })
	logger.Info("policy watcher started", "dir", dir)
	return w, nil
}

func (w *watcher) run(ctx context.Context, dir string, e *Engine, logger *slog.Logger) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				w.watchNewDir(ev.Name, logger)
			}
			if strings.HasSuffix(ev.Name, ".rego") || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				timer.Reset(watchDebounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			logger.Error("policy watcher error", "dir", dir, "error", err)
		case <-timer.C:
			logger.Info("policy files changed, reloading", "dir", dir)
			// Reload logs its own errors, and the set in force stays.
			_ = e.Reload(ctx)
		}
	}
}

// watchNewDir adds a directory created below the policy directory.
func (w *watcher) watchNewDir(path string, logger *slog.Logger) {
	info, err := os.Stat(path)
	if err != nil || !info.IsDir() {
		return
	}
	if err := w.fs.Add(path); err != nil {
		logger.Error("policy watcher cannot watch new directory", "dir", path, "error", err)
	}
}

func (w *watcher) close() error {
	w.cancel()
	err := w.fs.Close()
	w.done.Wait()
	return err
}
